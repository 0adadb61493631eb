import type { StoreProvider } from "@sessionkit/core/store";
import type { RedisStoreOptions } from "./options.js";
import { createRedisStore } from "./redis-store.js";

/**
 * Registry provider for the Redis store. It opens `redis://`, `rediss://`,
 * `redis+sentinel://` and `redis+cluster://` URLs, read by `parseRedisUrl`.
 *
 * @example
 * ```ts
 * import { createStoreRegistry } from "@sessionkit/core";
 * import { redisProvider } from "@sessionkit/store-redis";
 *
 * const registry = createStoreRegistry().register(redisProvider);
 * const store = await registry.open("redis://127.0.0.1:6379/0?prefix=myapp");
 * ```
 */
export const redisProvider: StoreProvider<RedisStoreOptions> = {
  name: "redis",
  schemes: ["redis", "rediss", "redis+sentinel", "redis+cluster"],
  create: (options) => createRedisStore(options),
  fromUrl: (url) => createRedisStore({ url }),
};
