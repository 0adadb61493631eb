import {
  checkOptionNames,
  defineStore,
  type GcStoreOptions,
  gcIntervalOption,
  isStoreKey,
  type OptionalStoreMethod,
  resolveStoreOptions,
  type SessionRecord,
  type StoreBackend,
  type StoredSession,
  type StoreWith,
  storeArgumentError,
  wholeNumberOption,
} from "@sessionkit/core/store";

const NAME = "memory";
const KNOWN_OPTIONS: readonly string[] = ["maxEntries", "gcIntervalMs", "now", "onError"];

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions extends Omit<GcStoreOptions, "operationTimeoutMs"> {
  /**
   * Most sessions held at once. Past it, the least recently used session is
   * dropped (its user is signed out), so memory stays bounded.
   * @default 10000
   */
  readonly maxEntries?: number | undefined;
  /**
   * How often expired sessions are pruned, in ms, on a timer that never keeps
   * the process alive; `false` for none (expired sessions are still never
   * returned, and `gc()` prunes on demand).
   * @default 60000
   */
  readonly gcIntervalMs?: number | false | undefined;
  /**
   * The clock, epoch ms, called on every operation that compares a record's
   * `expiresAt` with the time.
   * @default Date.now
   */
  readonly now?: (() => number) | undefined;
}

/** A `SessionStore` that keeps sessions in this process's memory, with every capability. */
export interface MemoryStore extends StoreWith<OptionalStoreMethod> {}

function copy(record: SessionRecord): SessionRecord {
  const out: SessionRecord = {
    payload: record.payload,
    expiresAt: record.expiresAt,
    createdAt: record.createdAt,
    version: record.version,
  };
  return record.userId === undefined ? out : { ...out, userId: record.userId };
}

/**
 * Creates a store that lives in this process's memory: fast, and gone on
 * restart. **Single process only**: with several processes or machines each
 * has its own sessions; use the SQLite, Redis or Postgres store there.
 *
 * Every capability of the contract is implemented, so this store is also the
 * reference the conformance suite is checked against. Invalid options throw a
 * `SessionError` with code `INVALID_CONFIG`.
 *
 * @example
 * ```ts
 * import { createSessionManager } from "@sessionkit/core";
 * import { createMemoryStore } from "@sessionkit/store-memory";
 *
 * const sessions = createSessionManager({
 *   store: createMemoryStore({ maxEntries: 50_000 }),
 *   secrets: [process.env.SESSION_SECRET ?? ""],
 * });
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  // operationTimeoutMs is unknown here: an in-process store has no call to bound.
  checkOptionNames(NAME, options, KNOWN_OPTIONS);
  const { now, onError } = resolveStoreOptions(NAME, options, { operationTimeoutMs: 1 });
  const maxEntries = wholeNumberOption(NAME, "maxEntries", options.maxEntries ?? 10_000);
  const gcIntervalMs = gcIntervalOption(NAME, options.gcIntervalMs, 60_000);
  return defineStore({
    name: NAME,
    backend: memoryBackend(maxEntries, now),
    operationTimeoutMs: false,
    gcIntervalMs,
    onError,
  }) as MemoryStore;
}

/** The storage logic: two Maps, and JavaScript's run-to-completion for atomicity. */
function memoryBackend(maxEntries: number, now: () => number): StoreBackend {
  // Map iteration order is insertion order: re-inserting on use makes the
  // first entry the least recently used one.
  const records = new Map<string, SessionRecord>();
  const byUser = new Map<string, Set<string>>();

  const remove = (key: string): void => {
    const record = records.get(key);
    if (record === undefined) return;
    records.delete(key);
    if (record.userId === undefined) return;
    const keys = byUser.get(record.userId);
    keys?.delete(key);
    if (keys?.size === 0) byUser.delete(record.userId);
  };
  /** The live record, deleting it when expired (so a clock going back revives nothing). */
  const live = (key: string): SessionRecord | undefined => {
    const record = records.get(key);
    if (record === undefined) return undefined;
    if (record.expiresAt <= now()) {
      remove(key);
      return undefined;
    }
    return record;
  };
  /** Stores a record, or removes the key when the record is already expired. */
  const put = (key: string, record: SessionRecord): void => {
    remove(key);
    if (record.expiresAt <= now()) return;
    records.set(key, Object.freeze(copy(record)));
    if (record.userId !== undefined) {
      let keys = byUser.get(record.userId);
      if (keys === undefined) {
        keys = new Set();
        byUser.set(record.userId, keys);
      }
      keys.add(key);
    }
    while (records.size > maxEntries) {
      const oldest = records.keys().next().value;
      if (oldest === undefined) break;
      remove(oldest);
    }
  };
  const sweep = (): number => {
    const t = now();
    let removed = 0;
    for (const [key, record] of records) {
      if (record.expiresAt <= t) {
        remove(key);
        removed++;
      }
    }
    return removed;
  };

  return {
    async get(key) {
      const record = live(key);
      if (record === undefined) return null;
      // Moved to the end: the least recently used record is always the first.
      records.delete(key);
      records.set(key, record);
      return copy(record);
    },

    async set(key, record, ifVersion) {
      const current = live(key);
      if ((current?.version ?? 0) !== ifVersion) return false;
      put(key, record);
      return true;
    },

    async destroy(key) {
      remove(key);
    },

    async touch(key, expiresAt, ifVersion) {
      const current = live(key);
      if (current === undefined) return false;
      if (ifVersion !== undefined && current.version !== ifVersion) return false;
      if (expiresAt > current.expiresAt) put(key, { ...current, expiresAt });
      return true;
    },

    async rename(oldKey, newKey, record, ifVersion) {
      const current = live(oldKey);
      if (current === undefined) return "missing";
      if (ifVersion !== undefined && current.version !== ifVersion) return "missing";
      if (live(newKey) !== undefined) return "taken";
      remove(oldKey);
      put(newKey, record);
      return "moved";
    },

    async listByUser(userId) {
      const out: StoredSession[] = [];
      for (const key of [...(byUser.get(userId) ?? [])]) {
        const record = live(key);
        if (record !== undefined) out.push({ key, record: copy(record) });
      }
      return out;
    },

    async destroyByUser(userId, exceptKey) {
      let destroyed = 0;
      for (const key of [...(byUser.get(userId) ?? [])]) {
        if (key === exceptKey) continue;
        if (live(key) !== undefined) destroyed++;
        remove(key);
      }
      return destroyed;
    },

    async count() {
      sweep();
      return records.size;
    },

    async clear() {
      records.clear();
      byUser.clear();
    },

    async keys(cursor, limit) {
      // The cursor is the last key returned: keys are listed in sorted order,
      // so a key live throughout the listing is never skipped, whatever moves
      // to the end of the Map on use meanwhile.
      if (cursor !== null && !isStoreKey(cursor)) {
        throw storeArgumentError(NAME, "keys(): cursor must be null or a cursor keys() returned");
      }
      const t = now();
      const all = [...records.keys()].sort();
      const start = cursor === null ? 0 : all.findIndex((key) => key > cursor);
      const page: string[] = [];
      let last: string | undefined;
      for (let i = start < 0 ? all.length : start; i < all.length && page.length < limit; i++) {
        const key = all[i] as string;
        last = key;
        const record = records.get(key);
        if (record !== undefined && record.expiresAt > t) page.push(key);
      }
      const done = last === undefined || last === all[all.length - 1];
      return { keys: page, cursor: done ? null : (last as string) };
    },

    async gc() {
      return sweep();
    },

    async close() {
      // Every later call is refused, so the records can go now.
      records.clear();
      byUser.clear();
    },
  };
}
