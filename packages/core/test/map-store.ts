import type { SessionRecord, SessionStore, StoreBackend } from "../src/store-kit.js";
import { defineStore } from "../src/store-kit.js";

/**
 * The in-test store of core's own tests: a Map behind `defineStore`, so core
 * is tested without any store package (no workspace cycle) and `defineStore`
 * is exercised by every manager test. `without` drops optional methods, for
 * the manager paths a third-party store with fewer capabilities takes.
 */
export function mapStore(
  options: {
    readonly now?: () => number;
    readonly without?: readonly Exclude<keyof StoreBackend, "get" | "set" | "destroy">[];
  } = {},
): SessionStore {
  const now = options.now ?? Date.now;
  const records = new Map<string, SessionRecord>();
  const live = (key: string): SessionRecord | undefined => {
    const record = records.get(key);
    if (record !== undefined && record.expiresAt <= now()) records.delete(key);
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
    async keys(cursor, limit) {
      const all = [...records.keys()].filter((key) => live(key) !== undefined).sort();
      const start = cursor === null ? 0 : all.findIndex((key) => key > cursor);
      const page = start < 0 ? [] : all.slice(start, start + limit);
      const last = page.at(-1);
      return { keys: page, cursor: last === undefined || last === all.at(-1) ? null : last };
    },
    async clear() {
      records.clear();
    },
    async gc() {
      const before = records.size;
      for (const key of [...records.keys()]) live(key);
      return before - records.size;
    },
  };
  for (const method of options.without ?? []) delete backend[method];
  return defineStore({ name: "map", backend, operationTimeoutMs: false });
}
