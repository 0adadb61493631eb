import { defineStore, type OptionalStoreMethod, type StoreWith } from "@sessionkit/core/store";
import { redisBackend } from "./backend.js";
import { classifyRedisError } from "./classify.js";
import { clientFromUrl, openConnection } from "./connection.js";
import { openNodeRedisConnection } from "./node-redis.js";
import { isIoredis, type RedisStoreOptions, resolveRedisOptions } from "./options.js";
import type { RedisUrl } from "./url.js";

/** A `SessionStore` on Redis, with every optional method but `gc` (Redis expires keys natively). */
export interface RedisStore extends StoreWith<Exclude<OptionalStoreMethod, "gc">> {}

/**
 * Creates a session store on Redis (standalone, Sentinel or Cluster) through
 * ioredis, or through a node-redis 5 client, cluster or sentinel you pass as
 * `client`. Every read-modify-write of a session is one Lua script, so
 * compare-and-set and touch are atomic, and every write sets a native expiry
 * (`PX expiresAt - now()`, on the application's clock). Sessions spread over
 * 256 hash-tagged buckets, so a Cluster's masters share them. Invalid options
 * throw a `SessionError` `INVALID_CONFIG`.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import { createRedisStore } from "@sessionkit/store-redis";
 *
 * const client = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
 *   enableOfflineQueue: false,
 * });
 * const store = createRedisStore({ client, prefix: "myapp-sessions" });
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const resolved = resolveRedisOptions(options);
  const { operationTimeoutMs, onError } = resolved;
  const given = resolved.client;
  const connection =
    given === undefined
      ? openConnection(clientFromUrl(resolved.url as RedisUrl, operationTimeoutMs), true)
      : isIoredis(given)
        ? openConnection(given, false)
        : openNodeRedisConnection(given);
  return defineStore({
    name: "redis",
    backend: redisBackend({ ...resolved, connection }),
    classify: classifyRedisError,
    operationTimeoutMs,
    onError,
  }) as RedisStore;
}
