import { createExpressSessionStore } from "@sessionkit/express-session";
import { createSqliteStore } from "@sessionkit/store-sqlite";
import express from "express";
import session from "express-session";

declare module "express-session" {
  interface SessionData {
    visits: number;
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
    store: createExpressSessionStore(
      createSqliteStore({ path: process.env.SESSIONS_DB ?? "sessions.db" }),
    ),
  }),
);

app.get("/", (req, res) => {
  req.session.visits = (req.session.visits ?? 0) + 1;
  res.send(`You have visited ${req.session.visits} time(s).\n`);
});
