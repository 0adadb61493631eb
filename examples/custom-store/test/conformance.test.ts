import { describeStoreConformance } from "@sessionkit/conformance";
import { createMapStore, type MapStore } from "../src/map-store.js";

describeStoreConformance<MapStore>("map", {
  createStore: () => createMapStore(),
  // Lets the suite check that destroyed and expired records are really gone.
  inspect: { exists: async (store, key) => store.records.has(key) },
});
