import {
  defineStore,
  type KeyPage,
  type SessionRecord,
  type StoreBackend,
  type StoreWith,
  storeArgumentError,
} from "@sessionkit/core/store";

/** The test store's type: every optional method, plus its map for the inspection hook. */
export type FullMapStore = StoreWith<
  "touch" | "rename" | "listByUser" | "destroyByUser" | "count" | "clear" | "keys" | "gc" | "close"
> & {
  readonly records: ReadonlyMap<string, SessionRecord>;
};

/**
 * A store with every capability on a Map, built with `defineStore`, so the
 * suite's own tests run every group (keys, gc, rename, user index too). Like a
 * store with native expiry, it never returns an expired record but keeps it
 * until `gc()`, so the physical checks have something to find.
 */
export function createFullMapStore(options: { readonly now?: () => number } = {}): FullMapStore {
  const now = options.now ?? Date.now;
  const records = new Map<string, SessionRecord>();
  const live = (key: string): SessionRecord | undefined => {
    const record = records.get(key);
    return record !== undefined && record.expiresAt > now() ? record : undefined;
  };
  const put = (key: string, record: SessionRecord): void => {
    if (record.expiresAt > now()) records.set(key, { ...record });
    else records.delete(key);
  };
  const ofUser = (userId: string): string[] =>
    [...records.keys()].filter((key) => live(key)?.userId === userId);

  const backend: StoreBackend = {
    async get(key) {
      const record = live(key);
      return record === undefined ? null : { ...record };
    },
    async set(key, record, ifVersion) {
      if ((live(key)?.version ?? 0) !== ifVersion) return false;
      put(key, record);
      return true;
    },
    async destroy(key) {
      records.delete(key);
    },
    async touch(key, expiresAt, ifVersion) {
      const current = live(key);
      if (current === undefined || (ifVersion !== undefined && current.version !== ifVersion)) {
        return false;
      }
      if (expiresAt > current.expiresAt) put(key, { ...current, expiresAt });
      return true;
    },
    async rename(oldKey, newKey, record, ifVersion) {
      const current = live(oldKey);
      if (current === undefined || (ifVersion !== undefined && current.version !== ifVersion)) {
        return "missing";
      }
      if (live(newKey) !== undefined) return "taken";
      records.delete(oldKey);
      put(newKey, record);
      return "moved";
    },
    async listByUser(userId) {
      return ofUser(userId).map((key) => ({ key, record: { ...(live(key) as SessionRecord) } }));
    },
    async destroyByUser(userId, exceptKey) {
      const keys = ofUser(userId).filter((key) => key !== exceptKey);
      for (const key of keys) records.delete(key);
      return keys.length;
    },
    async count() {
      return [...records.keys()].filter((key) => live(key) !== undefined).length;
    },
    async clear() {
      records.clear();
    },
    // The cursor is "k:" and the last key of the page before: keys in sorted order.
    async keys(cursor, limit): Promise<KeyPage> {
      if (cursor !== null && !/^k:[0-9a-f]{64}$/.test(cursor)) {
        throw storeArgumentError(
          "map",
          "keys(): cursor must be null or a cursor this store returned",
        );
      }
      const after = cursor?.slice(2) ?? "";
      const sorted = [...records.keys()].filter((key) => key > after && live(key)).sort();
      const page = sorted.slice(0, limit);
      const last = page.at(-1);
      return { keys: page, cursor: sorted.length > limit && last ? `k:${last}` : null };
    },
    async gc() {
      let pruned = 0;
      for (const [key, record] of records) {
        if (record.expiresAt <= now()) {
          records.delete(key);
          pruned++;
        }
      }
      return pruned;
    },
  };
  const store = defineStore({ name: "map", backend, operationTimeoutMs: false });
  return Object.freeze({ ...store, records }) as FullMapStore;
}
