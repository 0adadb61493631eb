export {
  ErrorCode,
  isSessionError,
  redactSecrets,
  SessionError,
  type SessionErrorOptions,
} from "./errors.js";
export {
  createStoreRegistry,
  type StoreConfig,
  type StoreProvider,
  type StoreRegistry,
} from "./registry.js";
export {
  assertStorable,
  CAPABILITY_NAMES,
  type ConditionalOptions,
  defineCapabilities,
  iterateKeys,
  type KeyPage,
  type SessionRecord,
  type SessionStore,
  type SetOptions,
  type StoreCapabilities,
  type StoredSession,
} from "./store.js";
