import { createServer } from "node:http";
import { createSessionManager } from "@sessionkit/core";
import { createNodeHandler } from "@sessionkit/core/node";
import { createRedisStore } from "@sessionkit/store-redis";
import { Redis } from "ioredis";

interface Data {
  cart: string[];
}

const secret = process.env.SESSION_SECRET;
if (secret === undefined) throw new Error("set SESSION_SECRET to at least 32 random bytes");

// Your client, your settings: fail fast instead of queueing while Redis is down.
export const client = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  enableOfflineQueue: false,
});
export const store = createRedisStore({
  client,
  prefix: process.env.SESSION_PREFIX ?? "myapp",
  operationTimeoutMs: 2_000,
});

const sessions = createSessionManager<Data>({ store, secrets: [secret] });

export const server = createServer(
  createNodeHandler(sessions, async (req, res, session) => {
    res.setHeader("Content-Type", "application/json");
    if (req.method === "POST" && req.url === "/cart") {
      let item = "";
      for await (const chunk of req) item += chunk;
      session.set("cart", [...(session.get("cart") ?? []), item]);
    } else if (req.method === "POST" && req.url === "/logout") {
      session.destroy();
      res.end(JSON.stringify({ cart: [] }));
      return;
    }
    res.end(JSON.stringify({ cart: session.get("cart") ?? [] }));
  }),
);

const port = Number(process.env.PORT ?? 3000);
server.listen(port, () => console.warn(`listening on http://localhost:${port}`));
