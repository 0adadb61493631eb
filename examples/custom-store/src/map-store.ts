import {
  assertStorable,
  defineCapabilities,
  type SessionRecord,
  type StoreWith,
} from "@sessionkit/core";

/** The store's type: the contract plus the optional methods it declares. */
export type MapStore = StoreWith<"touch" | "count" | "clear"> & {
  /** The backing map, for the conformance suite's inspection hook. */
  readonly records: ReadonlyMap<string, SessionRecord>;
};

/** A session store on a `Map`: one process, nothing persisted. */
export function createMapStore(now: () => number = Date.now): MapStore {
  const records = new Map<string, SessionRecord>();
  // An expired record is deleted when read, so a clock stepping back revives nothing.
  const live = (key: string): SessionRecord | undefined => {
    const record = records.get(key);
    if (record !== undefined && record.expiresAt <= now()) records.delete(key);
    return records.get(key);
  };
  return {
    name: "map",
    capabilities: defineCapabilities({ touch: true, count: true, clear: true }),
    records,
    async get(key) {
      assertStorable("map", key);
      const record = live(key);
      return record === undefined ? null : { ...record };
    },
    // Compare-and-set: version 0 means "absent", so a destroyed record is never recreated.
    async set(key, record, { ifVersion }) {
      assertStorable("map", key, record);
      if ((live(key)?.version ?? 0) !== ifVersion) return false;
      if (record.expiresAt <= now()) records.delete(key);
      else records.set(key, { ...record });
      return true;
    },
    async destroy(key) {
      assertStorable("map", key);
      records.delete(key);
    },
    async touch(key, expiresAt, options = {}) {
      assertStorable("map", key);
      const record = live(key);
      if (record === undefined) return false;
      if (options.ifVersion !== undefined && record.version !== options.ifVersion) return false;
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
  };
}
