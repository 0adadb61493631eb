import { createSessionManager, type Session } from "@sessionkit/core";
import { session } from "@sessionkit/express";
import { createMemoryStore } from "@sessionkit/store-memory";
import express from "express";

export interface ShopData {
  cart: string[];
}
export interface PrefsData {
  theme: "light" | "dark";
}

// Type req.session once for the whole app, and req.prefs for the second session.
declare module "@sessionkit/express" {
  interface SessionRegister {
    session: Session<ShopData>;
  }
}
declare global {
  namespace Express {
    interface Request {
      prefs: Session<PrefsData>;
    }
  }
}

const secret = process.env.SESSION_SECRET;
if (secret === undefined) throw new Error("set SESSION_SECRET to at least 32 random bytes");
const store = createMemoryStore();

export const app = express();
app.use(session(createSessionManager<ShopData>({ store, secrets: [secret] })));
app.use(
  session(
    createSessionManager<PrefsData>({ store, secrets: [secret], cookie: { name: "__Host-prefs" } }),
    { property: "prefs" },
  ),
);

app.post("/cart/:item", (req, res) => {
  req.session.set("cart", [...(req.session.get("cart") ?? []), req.params.item]);
  res.json({ items: req.session.get("cart")?.length });
});

app.post("/theme/:theme", (req, res) => {
  req.prefs.set("theme", req.params.theme === "dark" ? "dark" : "light");
  res.redirect(303, "/");
});

app.get("/", (req, res) => {
  res.json({ cart: req.session.get("cart") ?? [], theme: req.prefs.get("theme") ?? "light" });
});

// A thrown error answers 500 here, and nothing the request changed is saved.
app.use(
  (_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: "internal" });
  },
);
