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
  const { payload, expiresAt, createdAt, version, userId } = record;
  return userId === undefined
    ? { payload, expiresAt, createdAt, version }
    : { payload, expiresAt, createdAt, version, userId };
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

/**
 * A stored record in the recency list: the least recently used entry is the
 * list's head, the most recently used its tail.
 */
interface Entry {
  readonly key: string;
  record: SessionRecord;
  older: Entry | undefined;
  newer: Entry | undefined;
}

/**
 * The storage logic: a Map of entries linked in order of use, an index by
 * user, and JavaScript's run-to-completion for atomicity. Marking an entry
 * used relinks it in place, a few field writes; keeping the order in the
 * Map's instead (deleting and re-inserting the key on every read and write)
 * cost more than the lookup itself.
 */
function memoryBackend(maxEntries: number, now: () => number): StoreBackend {
  const records = new Map<string, Entry>();
  const byUser = new Map<string, Set<string>>();
  let oldest: Entry | undefined;
  let newest: Entry | undefined;

  const unlink = (entry: Entry): void => {
    if (entry.older === undefined) oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = undefined;
    entry.newer = undefined;
  };
  const append = (entry: Entry): void => {
    entry.older = newest;
    if (newest === undefined) oldest = entry;
    else newest.newer = entry;
    newest = entry;
  };
  /** Marks an entry the most recently used. */
  const use = (entry: Entry): void => {
    if (entry === newest) return;
    unlink(entry);
    append(entry);
  };
  const index = (userId: string | undefined, key: string): void => {
    if (userId === undefined) return;
    let keys = byUser.get(userId);
    if (keys === undefined) {
      keys = new Set();
      byUser.set(userId, keys);
    }
    keys.add(key);
  };
  const unindex = (userId: string | undefined, key: string): void => {
    if (userId === undefined) return;
    const keys = byUser.get(userId);
    keys?.delete(key);
    if (keys?.size === 0) byUser.delete(userId);
  };
  const removeEntry = (entry: Entry): void => {
    records.delete(entry.key);
    unlink(entry);
    unindex(entry.record.userId, entry.key);
  };
  const remove = (key: string): void => {
    const entry = records.get(key);
    if (entry !== undefined) removeEntry(entry);
  };
  /** The live entry, deleting it when expired (so a clock going back revives nothing). */
  const live = (key: string): Entry | undefined => {
    const entry = records.get(key);
    if (entry === undefined) return undefined;
    if (entry.record.expiresAt <= now()) {
      removeEntry(entry);
      return undefined;
    }
    return entry;
  };
  /**
   * Stores a copy of a record under `key` as the most recently used, or
   * removes the key when the record is already expired; past `maxEntries`,
   * the least recently used go. `entry` is the key's live entry, which the
   * caller has just looked up (`undefined` when there is none).
   */
  const put = (key: string, record: SessionRecord, entry: Entry | undefined): void => {
    if (record.expiresAt <= now()) {
      if (entry !== undefined) removeEntry(entry);
      return;
    }
    const stored = Object.freeze(copy(record));
    if (entry !== undefined) {
      if (entry.record.userId !== stored.userId) {
        unindex(entry.record.userId, key);
        index(stored.userId, key);
      }
      entry.record = stored;
      use(entry);
      return;
    }
    const added: Entry = { key, record: stored, older: undefined, newer: undefined };
    records.set(key, added);
    append(added);
    index(stored.userId, key);
    while (records.size > maxEntries && oldest !== undefined) removeEntry(oldest);
  };
  const forgetAll = (): void => {
    records.clear();
    byUser.clear();
    oldest = undefined;
    newest = undefined;
  };
  const sweep = (): number => {
    const t = now();
    let removed = 0;
    for (const entry of records.values()) {
      if (entry.record.expiresAt <= t) {
        removeEntry(entry);
        removed++;
      }
    }
    return removed;
  };

  // Every method answers in the calling step (no `async`): core resolves the
  // answer itself, one promise per call where an async method took two.
  return {
    get(key) {
      const entry = live(key);
      if (entry === undefined) return null;
      use(entry);
      return copy(entry.record);
    },

    set(key, record, ifVersion) {
      const current = live(key);
      if ((current?.record.version ?? 0) !== ifVersion) return false;
      put(key, record, current);
      return true;
    },

    destroy(key) {
      remove(key);
    },

    touch(key, expiresAt, ifVersion) {
      const entry = live(key);
      if (entry === undefined) return false;
      const current = entry.record;
      if (ifVersion !== undefined && current.version !== ifVersion) return false;
      if (expiresAt > current.expiresAt) put(key, { ...current, expiresAt }, entry);
      return true;
    },

    rename(oldKey, newKey, record, ifVersion) {
      const entry = live(oldKey);
      if (entry === undefined) return "missing";
      if (ifVersion !== undefined && entry.record.version !== ifVersion) return "missing";
      if (live(newKey) !== undefined) return "taken";
      removeEntry(entry);
      put(newKey, record, undefined);
      return "moved";
    },

    listByUser(userId) {
      const out: StoredSession[] = [];
      for (const key of [...(byUser.get(userId) ?? [])]) {
        const entry = live(key);
        if (entry !== undefined) out.push({ key, record: copy(entry.record) });
      }
      return out;
    },

    destroyByUser(userId, exceptKey) {
      let destroyed = 0;
      for (const key of [...(byUser.get(userId) ?? [])]) {
        if (key === exceptKey) continue;
        if (live(key) !== undefined) destroyed++;
        remove(key);
      }
      return destroyed;
    },

    count() {
      sweep();
      return records.size;
    },

    clear() {
      forgetAll();
    },

    keys(cursor, limit) {
      // The cursor is the last key returned: keys are listed in sorted order,
      // so a key live throughout the listing is never skipped, whatever is
      // added, used or removed meanwhile.
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
        const entry = records.get(key);
        if (entry !== undefined && entry.record.expiresAt > t) page.push(key);
      }
      const done = last === undefined || last === all[all.length - 1];
      return { keys: page, cursor: done ? null : (last as string) };
    },

    gc() {
      return sweep();
    },

    close() {
      // Every later call is refused, so the records can go now.
      forgetAll();
    },
  };
}
