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
import { BUCKET_COUNT, bucketOf, bucketTags, userHash } from "./layout.js";
import {
  CLEAR_BATCH,
  COUNT,
  DESTROY,
  DESTROY_IF_OWNER,
  GET,
  INDEX_ADD,
  INDEX_LIST,
  KEYS_PAGE,
  RETIRE,
  SET,
  TOUCH,
} from "./lua.js";

const STORE = "redis";

/** Options shared by both ways of connecting ({@link RedisStoreOptions}). */
export interface RedisStoreCommonOptions {
  /**
   * Namespace of this store's keys: every key starts with `<prefix>:`. The
   * sessions spread over 256 buckets, each its own hash tag, so in Redis
   * Cluster they spread over every master. Letters, digits and `_ - . : /`,
   * 1 to 64 characters.
   * @default "sess"
   */
  readonly prefix?: string;
  /**
   * Longest time one store call may take, in ms, including waiting for the
   * first connection and every round trip of the call (`clear()` applies it
   * per round of batches). Past it the call rejects with `STORE_TIMEOUT` (a write may or
   * may not have been applied; it was conditional, so it cannot resurrect anything).
   * @default 2000
   */
  readonly commandTimeoutMs?: number;
  /**
   * Called when a record under this store's prefix is malformed or of a foreign
   * type; the store deletes it and `get()` answers `null` (no session). The
   * error names no key.
   * @default (error) => console.warn(error.message)
   */
  readonly onCorruptRecord?: (error: SessionError) => void;
  /**
   * The application's clock, in epoch ms, read at every call: the one clock of
   * the store (checklist A20). Expiries are sent to Redis as relative TTLs
   * (`expiresAt - now()`), so a Redis server whose clock differs from the
   * application's neither shortens nor lengthens sessions. Pass the same clock
   * as the session manager's.
   * @default Date.now
   */
  readonly now?: () => number;
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
/** Buckets read per round of `keys()`: an almost empty store still pages in a few steps. */
const KEYS_BUCKETS_PER_STEP = 16;
/** Least headroom of a user index entry's score past the session's expiresAt, ms. */
const INDEX_HEADROOM_MS = 60_000;

/**
 * Messages of ioredis and Redis errors that mean "the server is not reachable
 * right now". "Too many Cluster redirections" happens while a Cluster fails
 * over: slots point at a master that is gone or not yet promoted.
 */
const UNAVAILABLE =
  /Stream isn't writeable|Connection is closed|connect E|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|MaxRetriesPerRequest|None of startup nodes|Failed to refresh slots cache|Too many Cluster redirections|All sentinels are unreachable|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|LOADING|READONLY|NOREPLICAS|Cluster isn't ready/;

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
  get: script(GET),
  set: script(SET),
  destroy: script(DESTROY),
  touch: script(TOUCH),
  retire: script(RETIRE),
  destroyIfOwner: script(DESTROY_IF_OWNER),
  count: script(COUNT),
  keys: script(KEYS_PAGE),
  clear: script(CLEAR_BATCH),
  indexAdd: script(INDEX_ADD),
  indexList: script(INDEX_LIST),
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
 * ioredis. Every read-modify-write of a session is one Lua script, so
 * compare-and-set and touch are atomic, and every write sets a native expiry
 * (`PX expiresAt - now()`, on the application's clock). Sessions spread over
 * 256 hash-tagged buckets, so a Cluster's masters share them.
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
      "createRedisStore: prefix must be 1 to 64 letters, digits or _ - . : / (no braces)",
    );
  }
  const onCorruptRecord =
    options.onCorruptRecord ?? ((error: SessionError) => console.warn(error.message));
  const now = options.now ?? Date.now;
  if (typeof now !== "function") throw new TypeError("createRedisStore: now must be a function");

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

  const tags = bucketTags();
  /** `<prefix>:{<tag>}:`, the base name of bucket `b`'s keys (one hash slot). */
  const bucketBase = (b: number): string => `${prefix}:{${tags[b]}}:`;
  /** KEYS and the bucket base of a bucket script about one session. */
  const sessionScriptKeys = (key: string): { keys: string[]; base: string } => {
    const base = bucketBase(bucketOf(key));
    return { keys: [`${base}s:${key}`, `${base}k`, `${base}e`], base };
  };
  const userIndexKey = (userId: string): string => `${prefix}:{u:${userHash(userId)}}`;
  const allBuckets = Array.from({ length: BUCKET_COUNT }, (_, b) => b);

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
    // disconnect() only ends the socket, and ioredis destroys it 2 s later
    // (its disconnectTimeout): a frozen peer never drains the socket, so the
    // queued commands would stay in memory until then. Destroying the sockets
    // rejects them at once; ioredis then reconnects as after any lost connection.
    const sockets =
      client instanceof Cluster ? client.nodes().map((node) => node.stream) : [client.stream];
    client.disconnect(true);
    for (const socket of sockets) socket?.destroy();
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
      return await client.evalsha(which.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return client.eval(which.source, keys.length, ...keys, ...args);
    }
  };

  /** The application's clock, read at call time: the one clock of this store (A20). */
  const clock = (): number => {
    const at = now();
    if (!Number.isFinite(at)) throw new TypeError("createRedisStore: now() must return epoch ms");
    return Math.floor(at);
  };

  /** Runs a bucket script about one session (KEYS: the session, its bucket's k and e). */
  const onSession = (
    which: Script,
    key: string,
    args: readonly (string | number)[],
  ): Promise<unknown> => {
    const { keys, base } = sessionScriptKeys(key);
    return evaluate(which, keys, [base, String(clock()), key, ...args]);
  };

  /** Runs a bucket script about a whole bucket (KEYS: its k and e). */
  const onBucket = (
    which: Script,
    bucket: number,
    args: readonly (string | number)[],
  ): Promise<unknown> => {
    const base = bucketBase(bucket);
    return evaluate(which, [`${base}k`, `${base}e`], [base, String(clock()), ...args]);
  };

  /**
   * Writes (or raises) `key`'s entry in the user's index, in the user's own
   * slot, before the session itself is written, with a score past `expiresAt`
   * (headroom: as long again as the session has left, at least a minute), so
   * later touches rarely need to raise it. Resolves to the score.
   */
  const indexUser = async (userId: string, key: string, expiresAt: number): Promise<number> => {
    const at = clock();
    const score = expiresAt + Math.max(expiresAt - at, INDEX_HEADROOM_MS);
    await evaluate(scripts.indexAdd, [userIndexKey(userId)], [String(at), key, String(score)]);
    return score;
  };

  /** The keys in a user's index (entries whose score has not passed), of any owner. */
  const indexedKeys = async (userId: string): Promise<string[]> => {
    const members = (await evaluate(
      scripts.indexList,
      [userIndexKey(userId)],
      [String(clock())],
    )) as string[];
    return members.filter(isStoreKey);
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
        `redis: ${operation} found a malformed record or a value of another type under prefix "${prefix}"; deleted it and treated it as no session`,
        { store: STORE, operation },
      ),
    );
    return null;
  };

  /** Reads one session through the GET script: deletes what is expired, malformed or foreign. */
  const load = async (operation: string, key: string): Promise<SessionRecord | null> => {
    const reply = (await onSession(scripts.get, key, [])) as [number, ...string[]];
    if (reply[0] === 0) return null;
    if (reply[0] !== 1) return corrupt(operation);
    const [, payload, expires, created, version, userId] = reply;
    const record = toRecord(payload, expires, created, version, userId === "" ? undefined : userId);
    if (record === undefined) {
      // Integers beyond the safe range: not one of ours either.
      await onSession(scripts.destroy, key, []);
      return corrupt(operation);
    }
    return record;
  };

  return {
    name: STORE,
    capabilities,

    async get(key) {
      assertStorable(STORE, key);
      return run("get", () => load("get", key));
    },

    async set(key, record, setOptions) {
      assertStorable(STORE, key, record);
      const ifVersion = setOptions?.ifVersion;
      if (!(Number.isSafeInteger(ifVersion) && ifVersion >= 0)) {
        throw new TypeError("redis: set() needs options.ifVersion, a non-negative integer");
      }
      return run("set", async () => {
        const { userId } = record;
        const attempt = (indexed: number | undefined) =>
          onSession(scripts.set, key, [
            String(ifVersion),
            ...recordArgs(record),
            indexed === undefined ? "" : String(indexed),
          ]);
        // A create of an owned session writes its index entry first; an update
        // usually finds its entry already covering the new expiry (else the
        // script writes nothing and answers 2, and the entry is raised first).
        let indexed: number | undefined;
        if (userId !== undefined && ifVersion === 0 && record.expiresAt > clock()) {
          indexed = await indexUser(userId, key, record.expiresAt);
        }
        let result = await attempt(indexed);
        if (result === 2 && userId !== undefined) {
          indexed = await indexUser(userId, key, record.expiresAt);
          result = await attempt(indexed);
        }
        return result === 1;
      });
    },

    async destroy(key) {
      assertStorable(STORE, key);
      await run("destroy", () => onSession(scripts.destroy, key, []));
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
      const version = ifVersion === undefined ? "" : String(ifVersion);
      return run("touch", async () => {
        let indexed = "";
        let owner = "";
        // An owned session whose index entry does not cover the new expiry:
        // raise the entry, then touch. A second owner change in between is a
        // data write the touch lost to; it then answers false.
        for (let round = 0; round < 3; round++) {
          const reply = (await onSession(scripts.touch, key, [
            String(expiresAt),
            version,
            indexed,
            owner,
          ])) as [number, string?];
          if (reply[0] !== 2) return reply[0] === 1;
          owner = reply[1] as string;
          indexed = String(await indexUser(owner, key, expiresAt));
        }
        return false;
      });
    },

    async rename(oldKey, newKey, record, renameOptions = {}) {
      assertStorable(STORE, oldKey);
      assertStorable(STORE, newKey, record);
      const ifVersion = renameOptions.ifVersion;
      if (ifVersion !== undefined && !(Number.isSafeInteger(ifVersion) && ifVersion >= 1)) {
        throw new TypeError("redis: rename() ifVersion must be a positive integer");
      }
      const result = await run("rename", async () => {
        const { userId } = record;
        // The two keys are in different slots (in Cluster, often on different
        // masters), so a rename is three steps: check the new key is free and
        // write the new owner's index entry; retire the old record by
        // compare-and-set (from then on no write to the old key can succeed);
        // create the new one. A crash between the last two logs the user out
        // and never leaves two live records.
        const [occupant, indexed] = await Promise.all([
          load("rename", newKey),
          userId === undefined || record.expiresAt <= clock()
            ? undefined
            : indexUser(userId, newKey, record.expiresAt),
        ]);
        if (occupant !== null) return "taken";
        if (
          (await onSession(scripts.retire, oldKey, [
            ifVersion === undefined ? "" : String(ifVersion),
          ])) !== 1
        )
          return "stale";
        const created = await onSession(scripts.set, newKey, [
          "0",
          ...recordArgs(record),
          indexed === undefined ? "" : String(indexed),
        ]);
        return created === 1 ? "moved" : "lost";
      });
      if (result === "taken") throw new TypeError("rename(): the new key is already in use");
      if (result === "lost") {
        throw new TypeError(
          "rename(): the new key was taken while renaming; the old session was already removed",
        );
      }
      return result === "moved";
    },

    async listByUser(userId) {
      checkUserId(userId);
      return run("listByUser", async () => {
        const keys = await indexedKeys(userId);
        const records = await Promise.all(keys.map((key) => load("listByUser", key)));
        const out: StoredSession[] = [];
        for (const [i, record] of records.entries()) {
          // The index may name sessions since destroyed or given to another user.
          if (record?.userId === userId) out.push({ key: keys[i] as string, record });
        }
        return out;
      });
    },

    async destroyByUser(userId, destroyOptions = {}) {
      checkUserId(userId);
      const exceptKey = destroyOptions.exceptKey;
      if (exceptKey !== undefined) assertStorable(STORE, exceptKey);
      return run("destroyByUser", async () => {
        const keys = (await indexedKeys(userId)).filter((key) => key !== exceptKey);
        const results = await Promise.all(
          keys.map((key) => onSession(scripts.destroyIfOwner, key, [userId])),
        );
        return results.filter((result) => result === 1).length;
      });
    },

    async count() {
      return run("count", async () => {
        const counts = await Promise.all(allBuckets.map((b) => onBucket(scripts.count, b, [])));
        return counts.reduce((sum: number, n) => sum + Number(n), 0);
      });
    },

    async clear() {
      // Every bucket in batches, the buckets in parallel, so one call never
      // blocks a server for long; sessions written while it runs may survive it.
      let pending = allBuckets;
      while (pending.length > 0) {
        const current = pending;
        const seen = await run("clear", () =>
          Promise.all(current.map((b) => onBucket(scripts.clear, b, [CLEAR_BATCH_SIZE]))),
        );
        pending = current.filter((_, i) => Number(seen[i]) > 0);
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
        // Keys are in key order across buckets too (a bucket is the key's first
        // two hex digits), so the cursor stays "the last key looked at".
        const out: string[] = [];
        let bucket = cursor === null ? 0 : bucketOf(cursor);
        let from = cursor ?? "";
        while (bucket < BUCKET_COUNT) {
          const group = allBuckets.slice(bucket, bucket + KEYS_BUCKETS_PER_STEP);
          const room = limit - out.length;
          const pages = (await Promise.all(
            group.map((b, i) => onBucket(scripts.keys, b, [i === 0 ? from : "", room])),
          )) as [string, string[]][];
          for (const [last, live] of pages) {
            const left = limit - out.length;
            if (live.length > left) {
              out.push(...live.slice(0, left));
              return { keys: out, cursor: out[out.length - 1] as string };
            }
            out.push(...live);
            if (last !== "") return { keys: out, cursor: last };
            if (out.length === limit) return { keys: out, cursor: out[out.length - 1] as string };
          }
          bucket += group.length;
          from = "";
        }
        return { keys: out, cursor: null };
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
