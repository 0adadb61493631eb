import { describeStoreConformance } from "@sessionkit/conformance";
import { createMemoryStore } from "@sessionkit/store-memory";

describeStoreConformance("memory", {
  createStore: () => createMemoryStore({ sweepIntervalMs: false }),
});
