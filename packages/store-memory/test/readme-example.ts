import { createServer } from "node:http";
import { createNodeHandler, createSessionManager } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";

interface Data {
  visits: number;
}

const secret = process.env.SESSION_SECRET;
if (secret === undefined) throw new Error("set SESSION_SECRET to at least 32 random bytes");

const sessions = createSessionManager<Data>({
  store: createMemoryStore({ maxEntries: 50_000 }),
  secrets: [secret],
});

export const server = createServer(
  createNodeHandler(sessions, (_req, res, session) => {
    const visits = (session.get("visits") ?? 0) + 1;
    session.set("visits", visits);
    res.setHeader("Content-Type", "text/plain");
    res.end(`You have visited ${visits} time(s).\n`);
  }),
);
