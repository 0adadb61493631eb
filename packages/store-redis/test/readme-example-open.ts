import { createStoreRegistry } from "@sessionkit/core";
import { redisProvider } from "@sessionkit/store-redis";

// The store creates and owns its client from a URL (close() then quits it).
const registry = createStoreRegistry().register(redisProvider);
export const store = await registry.open(
  process.env.SESSION_STORE_URL ?? "redis://127.0.0.1:6379/0?prefix=myapp",
);
