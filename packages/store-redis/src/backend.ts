import {
  ErrorCode,
  isStoreKey,
  SessionError,
  type SessionRecord,
  type StoreBackend,
  type StoredSession,
  type StoreErrorHandler,
  storeArgumentError,
  storeConfigError,
} from "@sessionkit/core/store";
import { isCommandTimeout } from "./classify.js";
import type { Connection } from "./connection.js";
import { BUCKET_COUNT, bucketOf, bucketTags, userHash } from "./layout.js";
import { SCRIPTS, type Script } from "./lua.js";
import { recordArgs, toRecord } from "./records.js";

const STORE = "redis";
const CLEAR_BATCH_SIZE = 500;
/** Buckets read per round of `keys()`: an almost empty store still pages in a few steps. */
const KEYS_BUCKETS_PER_STEP = 16;
/** Least headroom of a user index entry's score past the session's expiresAt, ms. */
const INDEX_HEADROOM_MS = 60_000;
const ALL_BUCKETS = Array.from({ length: BUCKET_COUNT }, (_, b) => b);

/** What {@link redisBackend} works with, from the resolved options. */
export interface RedisBackendSettings {
  readonly connection: Connection;
  readonly prefix: string;
  readonly now: () => number;
  readonly onError: StoreErrorHandler;
  readonly operationTimeoutMs: number;
}

/**
 * The storage logic of the Redis store, for `defineStore`: every method gets
 * arguments core has already checked. Every read-modify-write of a session is
 * one Lua script in the session's bucket slot (see `lua.ts` and `layout.ts`).
 */
export function redisBackend(settings: RedisBackendSettings): StoreBackend {
  const { connection, prefix, now, onError, operationTimeoutMs } = settings;
  const tags = bucketTags();
  /** `<prefix>:{<tag>}:`, the base name of bucket `b`'s keys (one hash slot). */
  const bucketBase = (b: number): string => `${prefix}:{${tags[b]}}:`;
  /** The Redis key of session `key`, in its bucket `base`. */
  const sessionKeyOf = (key: string, base = bucketBase(bucketOf(key))): string => `${base}s:${key}`;
  const userIndexKey = (userId: string): string => `${prefix}:{u:${userHash(userId)}}`;

  /** The application's clock, read at call time: the one clock of this store. */
  const clock = (): number => {
    const at = now();
    if (!Number.isFinite(at)) {
      throw storeConfigError(STORE, "now() must return a finite number of epoch ms");
    }
    return Math.floor(at);
  };

  /**
   * Runs `send` once the client is ready: at once while it is, without a
   * promise of its own (this is on every request's path).
   */
  const whenReady = <T>(send: () => Promise<T>): Promise<T> => {
    const waiting = connection.ready();
    return waiting === undefined ? send() : waiting.then(send);
  };

  /** Passes a command's failure on; one that timed out first drops a stalled connection. */
  const failed = (error: unknown): never => {
    if (isCommandTimeout(error)) connection.commandTimedOut();
    throw error;
  };

  /**
   * Runs one script once the client is ready, then `onReply` with its reply:
   * EVALSHA, and EVAL of the source on NOSCRIPT (first use, a restarted or
   * failed-over server). One promise over the client's, where every layer
   * of `async` functions cost the hot path a promise and a turn of its own.
   */
  const evaluate = <T = unknown>(
    which: Script,
    keys: readonly string[],
    args: readonly string[],
    onReply?: (reply: unknown) => T | PromiseLike<T>,
  ): Promise<T> =>
    whenReady(() => connection.evalsha(which.sha, keys, args)).then(onReply, (error: unknown) =>
      error instanceof Error && error.message.startsWith("NOSCRIPT")
        ? whenReady(() => connection.eval(which.source, keys, args)).then(onReply, failed)
        : failed(error),
    ) as Promise<T>;

  /** Runs a bucket script about one session (KEYS: the session, its bucket's k and e). */
  const onSession = <T = unknown>(
    which: Script,
    key: string,
    args: readonly string[],
    onReply?: (reply: unknown) => T | PromiseLike<T>,
  ): Promise<T> => {
    const base = bucketBase(bucketOf(key));
    const keys = [sessionKeyOf(key, base), `${base}k`, `${base}e`];
    return evaluate(which, keys, [base, String(clock()), key, ...args], onReply);
  };

  /** Runs a bucket script about a whole bucket (KEYS: its k and e). */
  const onBucket = (which: Script, bucket: number, args: readonly string[]): Promise<unknown> => {
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
    await evaluate(SCRIPTS.indexAdd, [userIndexKey(userId)], [String(at), key, String(score)]);
    return score;
  };

  /** The keys in a user's index (entries whose score has not passed), of any owner. */
  const indexedKeys = async (userId: string): Promise<string[]> => {
    const members = (await evaluate(
      SCRIPTS.indexList,
      [userIndexKey(userId)],
      [String(clock())],
    )) as string[];
    return members.filter(isStoreKey);
  };

  const corrupt = (operation: string): null => {
    onError(
      new SessionError(
        ErrorCode.STORE_ERROR,
        `redis: ${operation}() found a malformed record or a value of another type under prefix "${prefix}"; deleted it and treated it as no session`,
        { store: STORE, operation },
      ),
      { operation: "corrupt-record" },
    );
    return null;
  };

  /**
   * The common read's verdict on a session hash's fields: the record; `null`
   * when there is no such key (no fields); `undefined` for anything the GET
   * script must judge (a hash that is not one of ours, an expired record), so
   * deleting and reporting stay in one place.
   */
  const judgeHash = (fields: Record<string, string>): SessionRecord | null | undefined => {
    const { p, e, c, v, u } = fields;
    // An empty reply is a missing key; a hash without a payload is not ours.
    if (p === undefined) return Object.keys(fields).length === 0 ? null : undefined;
    const record = toRecord(p, e, c, v, u === undefined || u === "" ? undefined : u);
    return record === undefined || record.expiresAt <= clock() ? undefined : record;
  };

  /**
   * Reads one session: the hash by plain HGETALL, without running a script,
   * and the GET script when what it found needs judging (the script deletes
   * what is expired, malformed, foreign or of another type). One promise over
   * the client's: this is every request's read.
   */
  const load = (operation: string, key: string): Promise<SessionRecord | null> =>
    whenReady(() => connection.hgetall(sessionKeyOf(key))).then(
      (fields) => {
        const found = judgeHash(fields);
        return found === undefined ? loadByScript(operation, key) : found;
      },
      (error: unknown) =>
        error instanceof Error && error.message.startsWith("WRONGTYPE")
          ? loadByScript(operation, key)
          : failed(error),
    );

  /** Reads one session through the GET script: deletes what is expired, malformed or foreign. */
  const loadByScript = async (operation: string, key: string): Promise<SessionRecord | null> => {
    const reply = (await onSession(SCRIPTS.get, key, [])) as [number, ...string[]];
    if (reply[0] === 0) return null;
    if (reply[0] !== 1) return corrupt(operation);
    const [, payload, expires, created, version, userId] = reply;
    const record = toRecord(payload, expires, created, version, userId === "" ? undefined : userId);
    if (record === undefined) {
      // Integers beyond the safe range: not one of ours either.
      await onSession(SCRIPTS.destroy, key, []);
      return corrupt(operation);
    }
    return record;
  };

  /**
   * The SET script: compare-and-set at `ifVersion` (0: create). An owned
   * record needs its index entry to cover its expiry; when the script answers
   * 2 (it does not, nothing written) the entry is raised first and the write
   * tried once more. `indexed` is a score the caller has just written.
   */
  const write = (
    key: string,
    record: SessionRecord,
    ifVersion: number,
    indexed: number | undefined,
  ): Promise<boolean> => {
    const attempt = <T>(
      score: number | undefined,
      onReply: (reply: unknown) => T | PromiseLike<T>,
    ) =>
      onSession(
        SCRIPTS.set,
        key,
        [String(ifVersion), ...recordArgs(record), score === undefined ? "" : String(score)],
        onReply,
      );
    return attempt(indexed, (result) =>
      result === 2 && record.userId !== undefined
        ? indexUser(record.userId, key, record.expiresAt).then((score) =>
            attempt(score, (retried) => retried === 1),
          )
        : result === 1,
    );
  };

  return {
    get: (key) => load("get", key),

    set(key, record, ifVersion) {
      const { userId } = record;
      // A create of an owned session writes its index entry first; an update
      // usually finds its entry already covering the new expiry.
      return userId !== undefined && ifVersion === 0 && record.expiresAt > clock()
        ? indexUser(userId, key, record.expiresAt).then((score) =>
            write(key, record, ifVersion, score),
          )
        : write(key, record, ifVersion, undefined);
    },

    async destroy(key) {
      await onSession(SCRIPTS.destroy, key, []);
    },

    async touch(key, expiresAt, ifVersion) {
      const version = ifVersion === undefined ? "" : String(ifVersion);
      let indexed = "";
      let owner = "";
      // An owned session whose index entry does not cover the new expiry:
      // raise the entry, then touch. A second owner change in between is a
      // data write the touch lost to; it then answers false.
      for (let round = 0; round < 3; round++) {
        const reply = (await onSession(SCRIPTS.touch, key, [
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
    },

    async rename(oldKey, newKey, record, ifVersion) {
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
      const retired = await onSession(SCRIPTS.retire, oldKey, [
        ifVersion === undefined ? "" : String(ifVersion),
      ]);
      if (retired !== 1) return "missing";
      // False only if another writer created newKey since the check (core
      // never reuses a key); the old record is gone by then.
      return (await write(newKey, record, 0, indexed)) ? "moved" : "taken";
    },

    async listByUser(userId) {
      const keys = await indexedKeys(userId);
      const records = await Promise.all(keys.map((key) => load("listByUser", key)));
      const out: StoredSession[] = [];
      for (const [i, record] of records.entries()) {
        // The index may name sessions since destroyed or given to another user.
        if (record?.userId === userId) out.push({ key: keys[i] as string, record });
      }
      return out;
    },

    async destroyByUser(userId, exceptKey) {
      const keys = (await indexedKeys(userId)).filter((key) => key !== exceptKey);
      const results = await Promise.all(
        keys.map((key) => onSession(SCRIPTS.destroyIfOwner, key, [userId])),
      );
      return results.filter((result) => result === 1).length;
    },

    async count() {
      const counts = await Promise.all(ALL_BUCKETS.map((b) => onBucket(SCRIPTS.count, b, [])));
      return counts.reduce((sum: number, n) => sum + Number(n), 0);
    },

    async clear() {
      // Every bucket in batches, the buckets in parallel, so one call never
      // blocks a server for long; sessions written while it runs may survive it.
      const started = performance.now();
      let pending = ALL_BUCKETS;
      while (pending.length > 0) {
        // Core has answered STORE_TIMEOUT by now: stop rather than go on unseen.
        if (performance.now() - started >= operationTimeoutMs) {
          throw new SessionError(
            ErrorCode.STORE_TIMEOUT,
            `redis: clear() did not finish within ${operationTimeoutMs} ms (operationTimeoutMs); what it deleted stays deleted, call it again to go on`,
            { store: STORE, operation: "clear" },
          );
        }
        const current = pending;
        const seen = await Promise.all(
          current.map((b) => onBucket(SCRIPTS.clear, b, [String(CLEAR_BATCH_SIZE)])),
        );
        pending = current.filter((_, i) => Number(seen[i]) > 0);
      }
    },

    async keys(cursor, limit) {
      if (cursor !== null && !isStoreKey(cursor)) {
        throw storeArgumentError(STORE, "keys(): cursor must be one returned by keys()");
      }
      // Keys are in key order across buckets too (a bucket is the key's first
      // two hex digits), so the cursor stays "the last key looked at".
      const out: string[] = [];
      let bucket = cursor === null ? 0 : bucketOf(cursor);
      let from = cursor ?? "";
      while (bucket < BUCKET_COUNT) {
        const group = ALL_BUCKETS.slice(bucket, bucket + KEYS_BUCKETS_PER_STEP);
        const room = limit - out.length;
        const pages = (await Promise.all(
          group.map((b, i) => onBucket(SCRIPTS.keys, b, [i === 0 ? from : "", String(room)])),
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
    },

    close: () => connection.close(operationTimeoutMs),
  };
}
