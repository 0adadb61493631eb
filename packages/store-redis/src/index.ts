export type { NodeRedisClient } from "./node-redis.js";
export type {
  RedisStoreClientOptions,
  RedisStoreCommonOptions,
  RedisStoreOptions,
  RedisStoreUrlOptions,
} from "./options.js";
export { redisProvider } from "./provider.js";
export { createRedisStore, type RedisStore } from "./redis-store.js";
export { parseRedisUrl, type RedisHost, type RedisTopology, type RedisUrl } from "./url.js";
