import { createExpressSessionStore } from "@sessionkit/express-session";
import { createSqliteStore } from "@sessionkit/store-sqlite";
import express from "express";
import session from "express-session";

declare module "express-session" {
  interface SessionData {
    cart: string[];
  }
}

const secret = process.env.SESSION_SECRET;
if (secret === undefined) throw new Error("set SESSION_SECRET to at least 32 random bytes");

export const app = express();
app.use(
  session({
    secret,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: "lax", maxAge: 8 * 3_600_000 },
    // The only change: this was `new RedisStore({ client })`, `new PgStore({ pool })`, ...
    store: createExpressSessionStore(createSqliteStore({ url: "sqlite:./sessions.db" })),
  }),
);

app.get("/", (req, res) => {
  res.json({ cart: req.session.cart ?? [] });
});

app.post("/cart", express.text(), (req, res) => {
  req.session.cart = [...(req.session.cart ?? []), String(req.body)];
  res.json({ cart: req.session.cart });
});

app.post("/logout", (req, res, next) => {
  req.session.destroy((error) => {
    if (error) return next(error);
    res.clearCookie("connect.sid", { httpOnly: true, sameSite: "lax" });
    res.json({ cart: [] });
  });
});

const port = Number(process.env.PORT ?? 3000);
export const server = app.listen(port, () => console.warn(`listening on http://localhost:${port}`));
