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
    // Each method answers at once: an in-process backend needs no `async`.
    get(key) {
      return live(key) ?? null;
    },
    set(key, record, ifVersion) {
      if ((live(key)?.version ?? 0) !== ifVersion) return false;
      if (record.expiresAt > Date.now()) records.set(key, record);
      else records.delete(key);
      return true;
    },
    destroy(key) {
      records.delete(key);
    },
  },
});
