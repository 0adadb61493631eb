/**
 * `@sessionkit/core/store`: what a store author needs. Build a store with
 * {@link defineStore} and core checks every argument, guards `close()`,
 * classifies errors, bounds each call and schedules gc, so the store file
 * holds only its storage logic. Run `@sessionkit/conformance` against it.
 *
 * @packageDocumentation
 */
export {
  type BackendAnswer,
  DEFAULT_KEYS_PAGE,
  defineStore,
  MAX_KEYS_PAGE,
  type RenameResult,
  type StoreBackend,
  type StoreDefinition,
  type StoreErrorContext,
  type StoreErrorHandler,
  storeArgumentError,
  warnStoreError,
} from "./define-store.js";
export { ErrorCode, isSessionError, redactSecrets, SessionError } from "./errors.js";
export type { StoreProvider } from "./registry.js";
export { storeKeyOf } from "./signing.js";
export {
  assertStorable,
  assertStorableRecord,
  CAPABILITY_NAMES,
  type ConditionalOptions,
  defineCapabilities,
  EVERY_CAPABILITY,
  isSessionStore,
  isStorableText,
  isStoreKey,
  iterateKeys,
  type KeyPage,
  MAX_USER_ID_LENGTH,
  type OptionalStoreMethod,
  type SessionRecord,
  type SessionStore,
  type SetOptions,
  type StoreCapabilities,
  type StoredSession,
  type StoreWith,
} from "./store.js";
export {
  type CommonStoreOptions,
  checkOptionNames,
  type GcStoreOptions,
  gcIntervalOption,
  type MigrateMode,
  mergeUrlOptions,
  migrateOption,
  type ResolvedStoreOptions,
  readUrlParameters,
  resolveStoreOptions,
  storeConfigError,
  type UrlParameterKind,
  wholeNumberOption,
} from "./store-options.js";
