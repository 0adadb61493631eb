import { defineStore, type SessionRecord } from "@sessionkit/core/store";

const records = new Map<string, SessionRecord>();
const live = (key: string) => {
  const record = records.get(key);
  return record !== undefined && record.expiresAt > Date.now() ? record : undefined;
};
export const store = defineStore({
  name: "map",
  operationTimeoutMs: false, // in-process: no deadline needed
  backend: {
    async get(key) {
      return live(key) ?? null;
    },
    async set(key, record, ifVersion) {
      if ((live(key)?.version ?? 0) !== ifVersion) return false;
      if (record.expiresAt > Date.now()) records.set(key, record);
      else records.delete(key);
      return true;
    },
    async destroy(key) {
      records.delete(key);
    },
  },
});
