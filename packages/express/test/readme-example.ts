import { createSessionManager, type Session } from "@sessionkit/core";
import { session, sessionErrors } from "@sessionkit/express";
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
    { sessionName: "prefs" },
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

// After the routes, before the error handlers: a request whose handler threw
// (or called next(err)) saves nothing.
app.use(sessionErrors());
// Your error handler: a thrown error, or a session that failed to load (its
// status is 503 when the store is down), answers without details.
app.use(
  (error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    console.error(error);
    const status = (error as { status?: number }).status ?? 500;
    res.status(status >= 400 && status < 600 ? status : 500).json({ error: "failed" });
  },
);

const port = Number(process.env.PORT ?? 3000);
export const server = app.listen(port, () => console.warn(`listening on http://localhost:${port}`));
