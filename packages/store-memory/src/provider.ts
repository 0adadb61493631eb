import type { StoreProvider } from "@sessionkit/core/store";
import { createMemoryStore, type MemoryStoreOptions } from "./memory-store.js";
import { parseMemoryUrl } from "./url.js";

/**
 * Registry provider of the memory store: `create(options)` takes
 * {@link MemoryStoreOptions}; `fromUrl` opens `memory:` URLs as
 * {@link parseMemoryUrl} reads them (`memory:?maxEntries=1000`).
 *
 * @example
 * ```ts
 * import { createStoreRegistry } from "@sessionkit/core";
 * import { memoryProvider } from "@sessionkit/store-memory";
 *
 * const store = await createStoreRegistry().register(memoryProvider).open("memory:");
 * ```
 */
export const memoryProvider: StoreProvider<MemoryStoreOptions | undefined> = {
  name: "memory",
  schemes: ["memory"],
  create: (options) => createMemoryStore(options),
  fromUrl: (url) => createMemoryStore(parseMemoryUrl(url)),
};
