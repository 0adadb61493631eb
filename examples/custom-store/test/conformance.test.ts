import { describeStoreConformance } from "@sessionkit/conformance";
import { createMapStore, type MapStore } from "../src/map-store.js";

describeStoreConformance<MapStore>("map", {
  // The store reads the suite's clock, so expiry is checked exactly, without sleeping.
  createStore: ({ now }) => createMapStore({ now }),
  clock: "suite",
  // Lets the suite check that destroyed and expired records are really gone.
  inspect: { exists: async (store, key) => store.records.has(key) },
});
