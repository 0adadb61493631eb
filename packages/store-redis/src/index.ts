export {
  createRedisStore,
  type RedisStore,
  type RedisStoreClientOptions,
  type RedisStoreCommonOptions,
  type RedisStoreOptions,
  type RedisStoreUrlOptions,
  redisProvider,
} from "./redis-store.js";
