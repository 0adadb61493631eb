import { describeStoreConformance } from "@sessionkit/conformance";
import { createMemoryStore } from "@sessionkit/store-memory";

describeStoreConformance("memory", {
  createStore: ({ now }) => createMemoryStore({ now, gcIntervalMs: false }),
  clock: "suite",
});
