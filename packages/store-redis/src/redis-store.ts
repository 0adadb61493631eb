import { createHash } from "node:crypto";
import {
  assertStorable,
  defineCapabilities,
  ErrorCode,
  EVERY_CAPABILITY,
  isStorableText,
  isStoreKey,
  type OptionalStoreMethod,
  redactSecrets,
  SessionError,
  type SessionRecord,
  type SessionStore,
  type StoredSession,
  type StoreProvider,
  type StoreWith,
} from "@sessionkit/core";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import {
  CLEAR_BATCH,
  COUNT,
  DESTROY,
  DESTROY_BY_USER,
  KEYS_PAGE,
  LIST_BY_USER,
  RENAME,
  SET,
  TOUCH,
} from "./lua.js";

const STORE = "redis";

/** Options shared by both ways of connecting ({@link RedisStoreOptions}). */
export interface RedisStoreCommonOptions {
  /**
   * Namespace of this store's keys. It becomes the hash tag `{prefix}` that
   * starts every key, so in Redis Cluster all of a store's keys share one slot.
   * Letters, digits and `_ - . : /`, 1 to 64 characters.
   * @default "sess"
   */
  readonly prefix?: string;
  /**
   * Longest time one store call may take, in ms, including waiting for the
   * first connection (every operation is one round trip; `clear()` applies it
   * per batch). Past it the call rejects with `STORE_TIMEOUT` (a write may or
   * may not have been applied; it was conditional, so it cannot resurrect anything).
   * @default 2000
   */
  readonly commandTimeoutMs?: number;
  /**
   * Called when a record under this store's prefix is malformed or of a foreign
   * type; `get()` then answers `null` (no session). The error names no key.
   * @default (error) => console.warn(error.message)
   */
  readonly onCorruptRecord?: (error: SessionError) => void;
}

/** Connect with a client you created and own: standalone, Sentinel or Cluster. */
export interface RedisStoreClientOptions extends RedisStoreCommonOptions {
  /**
   * An ioredis client (`new Redis(…)`, Sentinel included) or `new Cluster(…)`.
   * `close()` leaves it open. The store sends nothing while it is not `ready`,
   * so its offline queue never replays a session write late.
   */
  readonly client: Redis | Cluster;
  readonly url?: never;
}

/** Let the store create and own its client from a URL. */
export interface RedisStoreUrlOptions extends RedisStoreCommonOptions {
  /**
   * `redis://[[user]:password@]host[:port][/db]`, `rediss://…` (TLS),
   * `redis+sentinel://[[user]:password@]host:port[,host:port…]/masterName[?db=n&sentinelPassword=…]`
   * or `redis+cluster://[[user]:password@]host:port[,host:port…]`.
   * Query parameters `prefix` and `commandTimeoutMs` set those options.
   */
  readonly url: string;
  readonly client?: never;
}

/** Options of {@link createRedisStore}: a `client` or a `url`, plus common options. */
export type RedisStoreOptions = RedisStoreClientOptions | RedisStoreUrlOptions;

/** A {@link SessionStore} on Redis, with every optional method it declares. */
export interface RedisStore extends StoreWith<Exclude<OptionalStoreMethod, "gc">> {}

// Everything but gc: Redis expires keys natively.
const capabilities = defineCapabilities({ ...EVERY_CAPABILITY, gc: false });

const PREFIX = /^[A-Za-z0-9_\-.:/]{1,64}$/;
const INTEGER = /^-?\d{1,16}$/;
const MAX_PAGE = 1_000;
const CLEAR_BATCH_SIZE = 500;

/** Messages of ioredis and Redis errors that mean "the server is not reachable right now". */
const UNAVAILABLE =
  /Stream isn't writeable|Connection is closed|connect E|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|MaxRetriesPerRequest|None of startup nodes|Failed to refresh slots cache|All sentinels are unreachable|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|LOADING|READONLY|NOREPLICAS|Cluster isn't ready/;

function classify(error: unknown): ErrorCode {
  const message = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  if (/Command timed out/.test(message)) return ErrorCode.STORE_TIMEOUT;
  if (/^\S+ BUSY /.test(message)) return ErrorCode.STORE_BUSY;
  if (UNAVAILABLE.test(message)) return ErrorCode.STORE_UNAVAILABLE;
  return ErrorCode.STORE_ERROR;
}

function wrap(operation: string, error: unknown): SessionError {
  if (error instanceof SessionError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new SessionError(
    classify(error),
    `redis: ${operation} failed: ${redactSecrets(detail).slice(0, 300)}`,
    { store: STORE, operation, cause: error },
  );
}

const listening = new WeakSet<Redis | Cluster>();
const ignoreError = (): void => {};

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

interface Script {
  readonly source: string;
  readonly sha: string;
}

const script = (source: string): Script => ({ source, sha: sha1(source) });
const scripts = {
  set: script(SET),
  destroy: script(DESTROY),
  touch: script(TOUCH),
  rename: script(RENAME),
  listByUser: script(LIST_BY_USER),
  destroyByUser: script(DESTROY_BY_USER),
  count: script(COUNT),
  keys: script(KEYS_PAGE),
  clear: script(CLEAR_BATCH),
};

/** Settings for clients the store creates: fail fast, never replay (checklist A30, A31). */
function ownedClientOptions(connectTimeoutMs: number): RedisOptions {
  return {
    // A command sent while disconnected fails at once instead of queueing
    // until the server returns and then running late.
    enableOfflineQueue: false,
    // A write whose reply was lost is reported as failed, never silently re-sent.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: connectTimeoutMs,
    // Bounded back-off: the store reconnects by itself, forever.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    // After a Sentinel or Cluster failover the old primary answers READONLY: reconnect to find the new one.
    reconnectOnError: (error) => error.message.startsWith("READONLY"),
  };
}

interface ParsedUrl {
  /** Creates the client; called only once every option has been validated. */
  readonly connect: (connectTimeoutMs: number) => Redis | Cluster;
  readonly prefix: string | undefined;
  readonly commandTimeoutMs: number | undefined;
}

function invalidUrl(why: string): SessionError {
  return new SessionError(ErrorCode.INVALID_CONFIG, `redis: invalid store URL (${why})`, {
    store: STORE,
  });
}

function hostList(text: string, defaultPort: number): { host: string; port: number }[] {
  return text.split(",").map((entry) => {
    const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
    if (match === null) throw invalidUrl("a host must be host or host:port");
    const host = (match[1] as string).replace(/^\[(.*)\]$/, "$1");
    return { host, port: match[2] === undefined ? defaultPort : Number(match[2]) };
  });
}

function decode(text: string | undefined): string | undefined {
  if (text === undefined || text === "") return undefined;
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalidUrl("bad percent-encoding");
  }
}

const URL_PARAMS = new Set(["prefix", "commandTimeoutMs", "db", "sentinelPassword"]);

/**
 * Parses a store URL without connecting. Only the scheme, parameter names and
 * fixed phrases ever reach a message: the URL may hold a password.
 */
function parseUrl(url: string): ParsedUrl {
  const match =
    /^(redis|rediss|redis\+sentinel|redis\+cluster):\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(
      url,
    );
  if (match === null) {
    throw invalidUrl(
      "expected redis://, rediss://, redis+sentinel:// or redis+cluster:// followed by a host",
    );
  }
  const scheme = (match[1] as string).toLowerCase();
  const [userPart, passwordPart] = (match[2] ?? "").split(/:(.*)/s, 2);
  const username = decode(userPart);
  const password = decode(passwordPart);
  const hosts = match[3] ?? "";
  const path = decode(match[4]);
  const query = new URLSearchParams(match[5] ?? "");
  for (const name of query.keys()) {
    if (!URL_PARAMS.has(name)) {
      throw invalidUrl(
        `unknown parameter "${name.slice(0, 40)}"; known: ${[...URL_PARAMS].join(", ")}`,
      );
    }
  }
  const prefix = query.get("prefix") ?? undefined;
  const timeout = query.get("commandTimeoutMs");
  const commandTimeoutMs = timeout === null ? undefined : Number(timeout);
  const dbText = query.get("db") ?? (scheme === "redis+sentinel" ? undefined : path);
  const db = dbText === undefined ? undefined : Number(dbText);
  if (db !== undefined && !(Number.isSafeInteger(db) && db >= 0)) {
    throw invalidUrl("the database must be a non-negative integer");
  }
  if (hosts === "") throw invalidUrl("no host");
  const auth = {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
  const dbOption = db === undefined ? {} : { db };

  if (scheme === "redis+cluster") {
    if (db !== undefined && db !== 0) throw invalidUrl("Redis Cluster has only database 0");
    const nodes = hostList(hosts, 6379);
    const connect = (connectTimeoutMs: number) =>
      new Cluster(nodes, {
        enableOfflineQueue: false,
        clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
        redisOptions: { ...ownedClientOptions(connectTimeoutMs), ...auth },
      });
    return { connect, prefix, commandTimeoutMs };
  }
  if (scheme === "redis+sentinel") {
    if (path === undefined || path.includes("/")) {
      throw invalidUrl("redis+sentinel:// needs the master name as its path");
    }
    const sentinels = hostList(hosts, 26379);
    const sentinelPassword = query.get("sentinelPassword") ?? undefined;
    const connect = (connectTimeoutMs: number) =>
      new Redis({
        ...ownedClientOptions(connectTimeoutMs),
        ...auth,
        ...dbOption,
        sentinels,
        name: path,
        ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
        sentinelRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
      });
    return { connect, prefix, commandTimeoutMs };
  }
  const [endpoint] = hostList(hosts, 6379);
  if (endpoint === undefined || hosts.includes(",")) {
    throw invalidUrl(`${scheme}:// takes one host; use redis+cluster:// for several`);
  }
  const connect = (connectTimeoutMs: number) =>
    new Redis({
      ...ownedClientOptions(connectTimeoutMs),
      ...auth,
      ...dbOption,
      host: endpoint.host,
      port: endpoint.port,
      ...(scheme === "rediss" ? { tls: { servername: endpoint.host } } : {}),
    });
  return { connect, prefix, commandTimeoutMs };
}

function checkUserId(userId: string): void {
  if (typeof userId !== "string" || userId.length === 0 || userId.length > 512) {
    throw new TypeError("redis: userId must be a string of 1 to 512 characters");
  }
  // A lone surrogate would be sent as U+FFFD and could name another user's set.
  if (!isStorableText(userId)) {
    throw new TypeError("redis: userId holds a NUL character or a lone surrogate");
  }
}

function safeInteger(text: unknown): number | undefined {
  if (typeof text !== "string" || !INTEGER.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** A record from raw hash fields, or undefined when they are not one of ours. */
function toRecord(
  payload: unknown,
  expires: unknown,
  created: unknown,
  versionText: unknown,
  userId: unknown,
): SessionRecord | undefined {
  const expiresAt = safeInteger(expires);
  const createdAt = safeInteger(created);
  const version = safeInteger(versionText);
  if (
    typeof payload !== "string" ||
    expiresAt === undefined ||
    createdAt === undefined ||
    version === undefined ||
    version < 1 ||
    (userId !== undefined && typeof userId !== "string")
  ) {
    return undefined;
  }
  const record: SessionRecord = { payload, expiresAt, createdAt, version };
  return typeof userId === "string" ? { ...record, userId } : record;
}

/**
 * Creates a session store on Redis (standalone, Sentinel or Cluster) through
 * ioredis. Every read-modify-write is one Lua script, so compare-and-set,
 * rename and the per-user index are atomic, and every write sets a native
 * expiry (`PEXPIREAT expiresAt`).
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
  if (options === null || typeof options !== "object") {
    throw new TypeError("createRedisStore: pass { client } or { url }");
  }
  if (options.url !== undefined && typeof options.url !== "string") {
    throw new TypeError("createRedisStore: url must be a string");
  }
  const parsed = options.url === undefined ? undefined : parseUrl(options.url);
  const commandTimeoutMs = options.commandTimeoutMs ?? parsed?.commandTimeoutMs ?? 2_000;
  if (!(Number.isFinite(commandTimeoutMs) && commandTimeoutMs > 0)) {
    throw new TypeError("createRedisStore: commandTimeoutMs must be a positive number of ms");
  }
  const hasClient = options.client !== undefined;
  const hasUrl = options.url !== undefined;
  if (hasClient === hasUrl) {
    throw new TypeError("createRedisStore: pass exactly one of { client } or { url }");
  }
  if (hasClient && !(options.client instanceof Redis || options.client instanceof Cluster)) {
    throw new TypeError("createRedisStore: client must be an ioredis Redis or Cluster instance");
  }
  const prefix = options.prefix ?? parsed?.prefix ?? "sess";
  if (typeof prefix !== "string" || !PREFIX.test(prefix)) {
    throw new TypeError(
      "createRedisStore: prefix must be 1 to 64 letters, digits or _ - . : / (no braces: it becomes the hash tag)",
    );
  }
  const onCorruptRecord =
    options.onCorruptRecord ?? ((error: SessionError) => console.warn(error.message));

  const owned = options.client === undefined;
  const client = options.client ?? (parsed as ParsedUrl).connect(commandTimeoutMs);
  // Always one listener of ours (the user's, if any, stay): an `error` event
  // with none would be logged by ioredis as unhandled, and every failure
  // already reaches the caller of the operation as a SessionError. One per
  // client, however many stores share it.
  if (!listening.has(client)) {
    listening.add(client);
    client.on("error", ignoreError);
  }
  let closed = false;
  // Operations wait for the first connection only until it is made or has
  // failed once; from then on an unready client means an outage: fail fast.
  let everReady = client.status === "ready";
  let startupFailed = false;
  if (!everReady) {
    client.once("ready", () => (everReady = true));
    client.once("close", () => (startupFailed = true));
  }

  const base = `{${prefix}}:`;
  const sessionKey = (key: string) => `${base}s:${key}`;
  const indexKeys = [`${base}k`, `${base}e`] as const;

  /**
   * Settles when the first connection attempt does: resolves on ready, rejects
   * on its first error (a server that is down at start-up fails fast, like one
   * that goes down later). One promise shared by every waiting operation; each
   * operation bounds its wait with its own timeout.
   */
  let startup: Promise<void> | undefined;
  const firstReady = (): Promise<void> => {
    startup ??= new Promise<void>((resolve, reject) => {
      const settle = (error?: unknown) => {
        client.off("ready", onReady);
        client.off("error", onError);
        client.off("end", onEnd);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onReady = () => settle();
      const onError = (error: unknown) => {
        startupFailed = true;
        settle(error);
      };
      const onEnd = () => settle(new Error("Connection is closed."));
      client.on("ready", onReady);
      client.on("error", onError);
      client.on("end", onEnd);
    });
    return startup;
  };

  /**
   * A command that timed out on a connection that is still open means the
   * server or the network stalled (a frozen process, a black hole): every
   * further command would wait in the client's queue, holding memory, until a
   * reply that may never come. Dropping the connection rejects and frees them
   * all, and operations fail fast while the client reconnects. Only for a
   * client the store owns (its queued commands are never resent:
   * `autoResendUnfulfilledCommands: false`); a client passed in is the
   * caller's to manage.
   */
  const dropStalledConnection = (): void => {
    if (!owned || closed || client.status !== "ready") return;
    client.disconnect(true);
  };

  /**
   * Runs one store operation under the operation timeout and turns every
   * failure into a SessionError. Nothing is sent unless the client is ready:
   * during an outage operations fail fast with STORE_UNAVAILABLE instead of
   * waiting in an offline queue (from where a write could land after its
   * request had already failed). Only the very first connection is waited for.
   */
  const run = async <T>(operation: string, work: () => Promise<T>): Promise<T> => {
    if (closed) {
      throw new SessionError(ErrorCode.STORE_UNAVAILABLE, "redis: the store is closed", {
        store: STORE,
        operation,
      });
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SessionError(
              ErrorCode.STORE_TIMEOUT,
              `redis: ${operation} did not complete within ${commandTimeoutMs} ms`,
              { store: STORE, operation },
            ),
          ),
        commandTimeoutMs,
      );
    });
    const attempt = (async () => {
      const status = client.status;
      if (status !== "ready") {
        const starting = status === "wait" || status === "connecting" || status === "connect";
        if (everReady || startupFailed || !starting) {
          throw new SessionError(
            ErrorCode.STORE_UNAVAILABLE,
            `redis: ${operation} failed: not connected (${status})`,
            { store: STORE, operation },
          );
        }
        const ready = firstReady();
        // A lazyConnect client connects on its first command, and we send none until ready.
        if (status === "wait") client.connect().catch(() => {});
        await ready;
      }
      return work();
    })();
    // The loser of the race must not surface as an unhandled rejection.
    attempt.catch(() => {});
    try {
      return await Promise.race([attempt, deadline]);
    } catch (error) {
      const wrapped = wrap(operation, error);
      if (wrapped.code === ErrorCode.STORE_TIMEOUT) dropStalledConnection();
      throw wrapped;
    } finally {
      clearTimeout(timer);
    }
  };

  /** EVALSHA, loading the script on NOSCRIPT (first use, a restarted or failed-over server). */
  const evaluate = async (
    which: Script,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> => {
    try {
      return await client.evalsha(which.sha, keys.length, ...keys, base, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return client.eval(which.source, keys.length, ...keys, base, ...args);
    }
  };

  const recordArgs = (record: SessionRecord): string[] => [
    record.payload,
    String(record.expiresAt),
    String(record.createdAt),
    String(record.version),
    record.userId ?? "",
  ];

  const corrupt = (operation: string): null => {
    onCorruptRecord(
      new SessionError(
        ErrorCode.STORE_ERROR,
        `redis: ${operation} found a malformed record under prefix "${prefix}"; treated as no session`,
        { store: STORE, operation },
      ),
    );
    return null;
  };

  return {
    name: STORE,
    capabilities,

    async get(key) {
      assertStorable(STORE, key);
      return run("get", async () => {
        let fields: Record<string, string>;
        try {
          fields = await client.hgetall(sessionKey(key));
        } catch (error) {
          if (error instanceof Error && error.message.startsWith("WRONGTYPE"))
            return corrupt("get");
          throw error;
        }
        if (Object.keys(fields).length === 0) return null;
        const record = toRecord(fields.p, fields.e, fields.c, fields.v, fields.u);
        if (record === undefined) return corrupt("get");
        // Redis expires the key on its own clock; this also honours the app's
        // clock so a record past its expiresAt is never handed out.
        return record.expiresAt <= Date.now() ? null : record;
      });
    },

    async set(key, record, setOptions) {
      assertStorable(STORE, key, record);
      const ifVersion = setOptions?.ifVersion;
      if (!(Number.isSafeInteger(ifVersion) && ifVersion >= 0)) {
        throw new TypeError("redis: set() needs options.ifVersion, a non-negative integer");
      }
      return run("set", async () => {
        const result = await evaluate(
          scripts.set,
          [sessionKey(key), ...indexKeys],
          [key, String(ifVersion), ...recordArgs(record)],
        );
        return result === 1;
      });
    },

    async destroy(key) {
      assertStorable(STORE, key);
      await run("destroy", () => evaluate(scripts.destroy, [sessionKey(key), ...indexKeys], [key]));
    },

    async touch(key, expiresAt, touchOptions = {}) {
      assertStorable(STORE, key);
      if (!Number.isSafeInteger(expiresAt)) {
        throw new TypeError("redis: touch() expiresAt must be a safe integer (epoch ms)");
      }
      const ifVersion = touchOptions.ifVersion;
      if (ifVersion !== undefined && !(Number.isSafeInteger(ifVersion) && ifVersion >= 1)) {
        throw new TypeError("redis: touch() ifVersion must be a positive integer");
      }
      return run("touch", async () => {
        const result = await evaluate(
          scripts.touch,
          [sessionKey(key), ...indexKeys],
          [key, String(expiresAt), ifVersion === undefined ? "" : String(ifVersion)],
        );
        return result === 1;
      });
    },

    async rename(oldKey, newKey, record, renameOptions = {}) {
      assertStorable(STORE, oldKey);
      assertStorable(STORE, newKey, record);
      const ifVersion = renameOptions.ifVersion;
      if (ifVersion !== undefined && !(Number.isSafeInteger(ifVersion) && ifVersion >= 1)) {
        throw new TypeError("redis: rename() ifVersion must be a positive integer");
      }
      const result = await run("rename", () =>
        evaluate(
          scripts.rename,
          [sessionKey(oldKey), sessionKey(newKey), ...indexKeys],
          [oldKey, newKey, ifVersion === undefined ? "" : String(ifVersion), ...recordArgs(record)],
        ),
      );
      if (result === -1) throw new TypeError("rename(): the new key is already in use");
      return result === 1;
    },

    async listByUser(userId) {
      checkUserId(userId);
      return run("listByUser", async () => {
        const flat = (await evaluate(scripts.listByUser, indexKeys, [userId])) as string[];
        const out: StoredSession[] = [];
        const now = Date.now();
        for (let i = 0; i + 4 < flat.length; i += 5) {
          const record = toRecord(flat[i + 1], flat[i + 2], flat[i + 3], flat[i + 4], userId);
          if (record === undefined) corrupt("listByUser");
          else if (record.expiresAt > now) out.push({ key: flat[i] as string, record });
        }
        return out;
      });
    },

    async destroyByUser(userId, destroyOptions = {}) {
      checkUserId(userId);
      const exceptKey = destroyOptions.exceptKey;
      if (exceptKey !== undefined) assertStorable(STORE, exceptKey);
      return run("destroyByUser", async () =>
        Number(await evaluate(scripts.destroyByUser, indexKeys, [userId, exceptKey ?? ""])),
      );
    },

    async count() {
      return run("count", async () => Number(await evaluate(scripts.count, indexKeys, [])));
    },

    async clear() {
      // In batches, so one call never blocks Redis for long; sessions written
      // while it runs may survive it.
      for (;;) {
        const seen = await run("clear", () =>
          evaluate(scripts.clear, indexKeys, [CLEAR_BATCH_SIZE]),
        );
        if (Number(seen) === 0) return;
      }
    },

    async keys(keyOptions = {}) {
      const limit = keyOptions.limit ?? 500;
      if (!(Number.isSafeInteger(limit) && limit >= 1 && limit <= MAX_PAGE)) {
        throw new TypeError(`redis: keys() limit must be an integer from 1 to ${MAX_PAGE}`);
      }
      const cursor = keyOptions.cursor ?? null;
      if (cursor !== null && !isStoreKey(cursor)) {
        throw new TypeError("redis: keys() cursor must be one returned by keys()");
      }
      return run("keys", async () => {
        const [next, keys] = (await evaluate(scripts.keys, indexKeys, [cursor ?? "", limit])) as [
          string,
          string[],
        ];
        return { keys, cursor: next === "" ? null : next };
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      if (!owned) return;
      if (client.status !== "ready") {
        client.disconnect();
        return;
      }
      // QUIT lets in-flight replies arrive; a server that stops answering
      // meanwhile must not hold close() up for longer than one operation.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.quit().catch(() => {}),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, commandTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      client.disconnect();
    },
  };
}

/**
 * Registry provider for the Redis store. It opens `redis://`, `rediss://`,
 * `redis+sentinel://` and `redis+cluster://` URLs (see {@link RedisStoreUrlOptions.url}).
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
