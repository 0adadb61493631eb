import { createServer } from "node:http";
import { createNodeHandler, createSessionManager, createStoreRegistry } from "@sessionkit/core";
import { createRedisStore, redisProvider } from "@sessionkit/store-redis";
import { Redis } from "ioredis";

interface Data {
  cart: string[];
}

// Your client, your settings: fail fast instead of queueing while Redis is down.
export const client = new Redis(process.env.REDIS_URL as string, { enableOfflineQueue: false });
export const store = createRedisStore({ client, prefix: "myapp", commandTimeoutMs: 2_000 });

const sessions = createSessionManager<Data>({
  store,
  secrets: [process.env.SESSION_SECRET as string],
});

export const server = createServer(
  createNodeHandler(sessions, (req, res, session) => {
    if (req.method === "POST") session.set("cart", [...(session.get("cart") ?? []), "apple"]);
    res.end(`${session.get("cart")?.length ?? 0} item(s) in your cart\n`);
  }),
);

// Or let the store own its client, from configuration (close() then quits it):
export async function openFromUrl() {
  const registry = createStoreRegistry().register(redisProvider);
  return registry.open(process.env.SESSION_STORE_URL ?? "redis://127.0.0.1:6379/0?prefix=myapp");
}
