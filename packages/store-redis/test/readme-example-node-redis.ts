import { createRedisStore } from "@sessionkit/store-redis";
import { createClient } from "redis";

// A node-redis 5 client of yours: you connect it, and the store's close() leaves it open.
export const client = createClient({
  url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  // Fail fast instead of queueing while Redis is down.
  disableOfflineQueue: true,
});
await client.connect();
export const store = createRedisStore({ client, prefix: process.env.SESSION_PREFIX ?? "myapp" });
