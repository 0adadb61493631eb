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

app.get("/", (req, res) => {
  res.json({ cart: req.session.get("cart") ?? [], theme: req.prefs.get("theme") ?? "light" });
});

app.post("/cart", express.text(), (req, res) => {
  const cart = [...(req.session.get("cart") ?? []), String(req.body)];
  req.session.set("cart", cart);
  res.json({ cart, theme: req.prefs.get("theme") ?? "light" });
});

app.post("/theme/:theme", (req, res) => {
  req.prefs.set("theme", req.params.theme === "dark" ? "dark" : "light");
  res.redirect(303, "/");
});

// Ends the shop session (the cart); the display preferences stay.
app.post("/logout", (req, res) => {
  req.session.destroy();
  res.json({ cart: [] });
});

// A thrown error answers 500 here, and nothing the request changed is saved.
app.use(
  (error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    console.error(error);
    res.status(500).json({ error: "internal" });
  },
);

const port = Number(process.env.PORT ?? 3000);
export const server = app.listen(port, () => console.warn(`listening on http://localhost:${port}`));
