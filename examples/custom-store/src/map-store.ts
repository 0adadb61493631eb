import { defineStore, type SessionRecord, type StoreWith } from "@sessionkit/core/store";

/** The store's type: the contract plus the optional methods it implements. */
export type MapStore = StoreWith<"touch" | "count" | "clear" | "close"> & {
  /** The backing map, for the conformance suite's inspection hook. */
  readonly records: ReadonlyMap<string, SessionRecord>;
};

/**
 * A session store on a `Map`: one process, nothing persisted. Core checks
 * every argument and guards `close()`; this file holds only the storage.
 */
export function createMapStore(options: { readonly now?: () => number } = {}): MapStore {
  const now = options.now ?? Date.now;
  const records = new Map<string, SessionRecord>();
  // An expired record is deleted when read, so a clock stepping back revives nothing.
  const live = (key: string): SessionRecord | undefined => {
    const record = records.get(key);
    if (record !== undefined && record.expiresAt <= now()) records.delete(key);
    return records.get(key);
  };
  const store = defineStore({
    name: "map",
    operationTimeoutMs: false,
    backend: {
      async get(key) {
        const record = live(key);
        return record === undefined ? null : { ...record };
      },
      // Compare-and-set: version 0 means "absent", so a destroyed record is never recreated.
      async set(key, record, ifVersion) {
        if ((live(key)?.version ?? 0) !== ifVersion) return false;
        if (record.expiresAt <= now()) records.delete(key);
        else records.set(key, { ...record });
        return true;
      },
      async destroy(key) {
        records.delete(key);
      },
      async touch(key, expiresAt, ifVersion) {
        const record = live(key);
        if (record === undefined || (ifVersion !== undefined && record.version !== ifVersion)) {
          return false;
        }
        if (expiresAt > record.expiresAt) records.set(key, { ...record, expiresAt });
        return true;
      },
      async count() {
        for (const key of records.keys()) live(key);
        return records.size;
      },
      async clear() {
        records.clear();
      },
    },
  });
  return Object.freeze({ ...store, records }) as MapStore;
}
