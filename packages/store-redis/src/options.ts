import {
  type CommonStoreOptions,
  checkOptionNames,
  mergeUrlOptions,
  type ResolvedStoreOptions,
  resolveStoreOptions,
  type StoreErrorHandler,
  storeConfigError,
} from "@sessionkit/core/store";
import { Cluster, Redis } from "ioredis";
import { isNodeRedisClient, type NodeRedisClient } from "./node-redis.js";
import {
  DEFAULT_OPERATION_TIMEOUT_MS,
  DEFAULT_PREFIX,
  parseRedisUrl,
  prefixOption,
  type RedisUrl,
} from "./url.js";

const STORE = "redis";

/** Every option name {@link createRedisStore} takes. */
const KNOWN_OPTIONS: readonly string[] = [
  "url",
  "client",
  "prefix",
  "operationTimeoutMs",
  "onError",
  "now",
];

/** Options shared by both ways of connecting ({@link RedisStoreOptions}). */
export interface RedisStoreCommonOptions extends CommonStoreOptions {
  /**
   * Namespace of this store's keys: every key starts with `<prefix>:`. The
   * sessions spread over 256 buckets, each its own hash tag, so in Redis
   * Cluster they spread over every master. Letters, digits and `_ - . : /`,
   * 1 to 64 characters.
   * @default "sess"
   */
  readonly prefix?: string | undefined;
  /**
   * Longest time one store call may take, in ms, including waiting for the
   * first connection and every round trip of the call. Past it the call
   * rejects with `STORE_TIMEOUT` (a write may or may not have been applied;
   * it was conditional, so it cannot resurrect anything). A client the store
   * creates from `url` also gets it as its ioredis `commandTimeout` and
   * `connectTimeout`, and a command of that client that times out drops its
   * stalled connection.
   * @default 2000
   */
  readonly operationTimeoutMs?: number | undefined;
  /**
   * Told about problems no caller awaits: a record under this store's prefix
   * that is malformed or of a foreign type (`operation: "corrupt-record"`;
   * the store deletes it and `get()` answers `null`). The error names no key.
   * @default process.emitWarning
   */
  readonly onError?: StoreErrorHandler | undefined;
  /**
   * The application's clock, in epoch ms, called at every operation: the one
   * clock of the store. Expiries are sent to Redis as relative TTLs
   * (`expiresAt - now()`), so a Redis server whose clock differs from the
   * application's neither shortens nor lengthens sessions. Pass the same
   * clock as the session manager's.
   * @default Date.now
   */
  readonly now?: (() => number) | undefined;
}

/** Connect with a client you created and own: standalone, Sentinel or Cluster. */
export interface RedisStoreClientOptions extends RedisStoreCommonOptions {
  /**
   * An ioredis client (`new Redis(…)`, Sentinel included) or `new Cluster(…)`;
   * or a node-redis 5 client: `createClient()`, `createCluster()` or
   * `createSentinel()`, connected by you (`await client.connect()`).
   * `close()` leaves it open. The store sends nothing while it is not ready,
   * so its offline queue never replays a session write late.
   */
  readonly client: Redis | Cluster | NodeRedisClient;
  /** Not with `client`. */
  readonly url?: never;
}

/** Let the store create and own its client from a URL. */
export interface RedisStoreUrlOptions extends RedisStoreCommonOptions {
  /**
   * `redis://[[user]:password@]host[:port][/db]`, `rediss://…` (TLS),
   * `redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/masterName[?db=n&sentinelPassword=…]`
   * or `redis+cluster://[[user]:password@]host[:port][,host[:port]…]` (see
   * {@link parseRedisUrl}). The query parameters `prefix` and
   * `operationTimeoutMs` set those options when the options object does not.
   * `close()` quits the client.
   */
  readonly url: string;
  /** Not with `url`. */
  readonly client?: never;
}

/** Options of {@link createRedisStore}: a `client` or a `url`, plus the common options. */
export type RedisStoreOptions = RedisStoreClientOptions | RedisStoreUrlOptions;

/** {@link RedisStoreOptions} checked and filled in. */
export interface ResolvedRedisOptions extends ResolvedStoreOptions {
  readonly prefix: string;
  /** The client passed in, or undefined when the store creates its own from {@link url}. */
  readonly client: Redis | Cluster | NodeRedisClient | undefined;
  /** The parsed `url`, when the store creates its own client. */
  readonly url: RedisUrl | undefined;
}

/** Whether `client` is an ioredis `Redis` (Sentinel included) or `Cluster`. */
export function isIoredis(client: unknown): client is Redis | Cluster {
  return client instanceof Redis || client instanceof Cluster;
}

/**
 * Checks every option; anything invalid, unknown, or set both in the URL and
 * in code is a `SessionError` `INVALID_CONFIG`.
 */
export function resolveRedisOptions(options: RedisStoreOptions): ResolvedRedisOptions {
  if (options === null || typeof options !== "object") {
    throw storeConfigError(STORE, "createRedisStore() takes { client } or { url }");
  }
  checkOptionNames(STORE, options, KNOWN_OPTIONS);
  const hasClient = options.client !== undefined;
  const hasUrl = options.url !== undefined;
  if (hasClient === hasUrl) {
    throw storeConfigError(STORE, "pass exactly one of { client } or { url }");
  }
  if (hasClient && !isIoredis(options.client) && !isNodeRedisClient(options.client)) {
    throw storeConfigError(
      STORE,
      "client must be an ioredis Redis or Cluster, or a node-redis 5 client, cluster or sentinel",
    );
  }
  const url = hasUrl ? parseRedisUrl(options.url as string) : undefined;
  const merged: RedisStoreCommonOptions =
    url === undefined ? options : mergeUrlOptions(STORE, options, url.options);
  const common = resolveStoreOptions(STORE, merged, {
    operationTimeoutMs: DEFAULT_OPERATION_TIMEOUT_MS,
  });
  return {
    ...common,
    prefix: prefixOption(merged.prefix ?? DEFAULT_PREFIX),
    client: options.client,
    url,
  };
}
