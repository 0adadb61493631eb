import { describeStoreConformance } from "@sessionkit/conformance";
import { createFullMapStore, type FullMapStore } from "./map-store.js";

const inspect = {
  exists: async (store: FullMapStore, key: string) => store.records.has(key),
  storedExpiresAt: async (store: FullMapStore, key: string) =>
    store.records.get(key)?.expiresAt ?? null,
};

// The suite's own run (A35), and the check of its clock hook: the same store once on the suite
// clock (time jumps, exact expiry instants) and once on the real clock (the
// suite sleeps past each expiry, and the exact-instant checks are skipped).
describeStoreConformance<FullMapStore>('map (clock: "suite")', {
  createStore: ({ now }) => createFullMapStore({ now }),
  clock: "suite",
  inspect,
});

describeStoreConformance<FullMapStore>('map (clock: "real")', {
  createStore: () => createFullMapStore(),
  clock: "real",
  inspect,
});
