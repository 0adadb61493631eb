import {
  assertStorable,
  EVERY_CAPABILITY,
  type OptionalStoreMethod,
  type SessionRecord,
  type SessionStore,
  type StoredSession,
  type StoreProvider,
  type StoreWith,
} from "@sessionkit/core";

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most sessions held at once. Past it, the least recently used session is
   * dropped (its user is signed out), so memory stays bounded.
   * @default 10000
   */
  readonly maxEntries?: number;
  /**
   * How often expired sessions are swept, in ms, on a timer that never keeps
   * the process alive. `false` turns the timer off (expired sessions are still
   * never returned, and `gc()` sweeps on demand).
   * @default 60000
   */
  readonly sweepIntervalMs?: number | false;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** A {@link SessionStore} that keeps sessions in this process's memory. */
export interface MemoryStore extends StoreWith<OptionalStoreMethod> {}

const capabilities = EVERY_CAPABILITY;

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
 * reference the conformance suite is checked against.
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
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError("createMemoryStore: maxEntries must be a positive integer");
  }
  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  if (sweepIntervalMs !== false && !(Number.isFinite(sweepIntervalMs) && sweepIntervalMs > 0)) {
    throw new TypeError("createMemoryStore: sweepIntervalMs must be a positive number or false");
  }
  const now = options.now ?? Date.now;

  // Map iteration order is insertion order: re-inserting on use makes the
  // first entry the least recently used one.
  const records = new Map<string, SessionRecord>();
  const byUser = new Map<string, Set<string>>();

  const unindex = (key: string, userId: string | undefined): void => {
    if (userId === undefined) return;
    const keys = byUser.get(userId);
    keys?.delete(key);
    if (keys?.size === 0) byUser.delete(userId);
  };
  const remove = (key: string): void => {
    const record = records.get(key);
    if (record === undefined) return;
    records.delete(key);
    unindex(key, record.userId);
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

  let timer: NodeJS.Timeout | undefined;
  if (sweepIntervalMs !== false) {
    timer = setInterval(sweep, sweepIntervalMs);
    timer.unref();
  }

  return {
    name: "memory",
    capabilities,

    async get(key) {
      assertStorable("memory", key);
      const record = live(key);
      if (record === undefined) return null;
      records.delete(key);
      records.set(key, record);
      return copy(record);
    },

    async set(key, record, { ifVersion }) {
      assertStorable("memory", key, record);
      const current = live(key);
      if (ifVersion === 0 ? current !== undefined : current?.version !== ifVersion) return false;
      put(key, record);
      return true;
    },

    async destroy(key) {
      assertStorable("memory", key);
      remove(key);
    },

    async touch(key, expiresAt, touchOptions = {}) {
      assertStorable("memory", key);
      const current = live(key);
      if (current === undefined) return false;
      if (touchOptions.ifVersion !== undefined && current.version !== touchOptions.ifVersion) {
        return false;
      }
      if (expiresAt > current.expiresAt) put(key, { ...current, expiresAt });
      return true;
    },

    async rename(oldKey, newKey, record, renameOptions = {}) {
      assertStorable("memory", oldKey);
      assertStorable("memory", newKey, record);
      const current = live(oldKey);
      if (current === undefined) return false;
      if (renameOptions.ifVersion !== undefined && current.version !== renameOptions.ifVersion) {
        return false;
      }
      if (live(newKey) !== undefined) {
        throw new TypeError("rename(): the new key is already in use");
      }
      remove(oldKey);
      put(newKey, record);
      return true;
    },

    async listByUser(userId) {
      const out: StoredSession[] = [];
      for (const key of [...(byUser.get(userId) ?? [])]) {
        const record = live(key);
        if (record !== undefined) out.push({ key, record: copy(record) });
      }
      return out;
    },

    async destroyByUser(userId, destroyOptions = {}) {
      let destroyed = 0;
      for (const key of [...(byUser.get(userId) ?? [])]) {
        if (key === destroyOptions.exceptKey) continue;
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

    async keys(keyOptions = {}) {
      // The cursor is the last key returned; Map order is stable apart from
      // moves-to-end on use, which may repeat a key but never skip one that
      // stays live, as the contract allows.
      const limit = keyOptions.limit ?? 500;
      const t = now();
      const all = [...records.keys()].sort();
      const after = keyOptions.cursor ?? "";
      const start = after === "" ? 0 : all.findIndex((k) => k > after);
      const page: string[] = [];
      let last = "";
      for (let i = start < 0 ? all.length : start; i < all.length && page.length < limit; i++) {
        const key = all[i] as string;
        last = key;
        const record = records.get(key);
        if (record !== undefined && record.expiresAt > t) page.push(key);
      }
      const done = last === "" || last === all[all.length - 1];
      return { keys: page, cursor: done ? null : last };
    },

    async gc() {
      return sweep();
    },

    async close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}

/**
 * Registry provider for the memory store: opens `memory:` URLs (query
 * parameters `maxEntries` and `sweepIntervalMs`, e.g. `memory:?maxEntries=1000`).
 */
export const memoryProvider: StoreProvider<MemoryStoreOptions> = {
  name: "memory",
  schemes: ["memory"],
  create: (options) => createMemoryStore(options ?? {}),
  fromUrl(url) {
    const query = url.includes("?") ? new URLSearchParams(url.slice(url.indexOf("?") + 1)) : null;
    const maxEntries = query?.get("maxEntries");
    const sweep = query?.get("sweepIntervalMs");
    return createMemoryStore({
      ...(maxEntries ? { maxEntries: Number(maxEntries) } : {}),
      ...(sweep ? { sweepIntervalMs: sweep === "false" ? false : Number(sweep) } : {}),
    });
  },
};
