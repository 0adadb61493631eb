export {
  createMemoryStore,
  type MemoryStore,
  type MemoryStoreOptions,
} from "./memory-store.js";
export { memoryProvider } from "./provider.js";
export { type MemoryUrl, parseMemoryUrl } from "./url.js";
