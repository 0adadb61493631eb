export { FORBIDDEN_KEYS, jsonCodec, type SessionCodec } from "./codec.js";
export {
  type CookieAttributes,
  findCookieValues,
  MAX_COOKIE_HEADER_LENGTH,
  MAX_COOKIE_PAIRS,
  MAX_SET_COOKIE_LENGTH,
  type SameSite,
  serializeCookie,
  validateCookie,
} from "./cookie.js";
export {
  ErrorCode,
  isSessionError,
  redactSecrets,
  SessionError,
  type SessionErrorOptions,
} from "./errors.js";
export {
  applyHeaders,
  applyNodeHeaders,
  createNodeHandler,
  errorResponse,
  errorStatus,
  type HeaderTarget,
  holdResponseUntil,
  type NodeHandlerOptions,
  type ResponseHold,
  type WithSessionOptions,
  withSession,
} from "./http.js";
export {
  type CommitResult,
  type CookieOptions,
  createSessionManager,
  type IdSourceOptions,
  type InstrumentedOperation,
  type OperationDetails,
  type RequestInput,
  type ResponseHeader,
  type Session,
  type SessionData,
  type SessionEvent,
  type SessionInfo,
  type SessionInstrumentation,
  type SessionManager,
  type SessionManagerOptions,
} from "./manager.js";
export {
  createStoreRegistry,
  type StoreConfig,
  type StoreProvider,
  type StoreRegistry,
} from "./registry.js";
export {
  createTokenSigner,
  generateSessionId,
  MIN_SECRET_BYTES,
  prepareSecrets,
  storeKeyOf,
  TOKEN_LENGTH,
  type TokenSigner,
} from "./signing.js";
export type {
  InferSchemaOutput,
  StandardSchemaResult,
  StandardSchemaV1,
} from "./standard-schema.js";
export {
  assertStorable,
  CAPABILITY_NAMES,
  type ConditionalOptions,
  defineCapabilities,
  EVERY_CAPABILITY,
  isSessionStore,
  isStorableText,
  isStoreKey,
  iterateKeys,
  type KeyPage,
  type OptionalStoreMethod,
  type SessionRecord,
  type SessionStore,
  type SetOptions,
  type StoreCapabilities,
  type StoredSession,
  type StoreWith,
} from "./store.js";
