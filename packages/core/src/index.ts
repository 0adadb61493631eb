/**
 * `@sessionkit/core`: server-side sessions for applications. The manager, the
 * session types, the errors, the Fetch API wrapper and the store registry.
 * Store authors import `@sessionkit/core/store`; node:http servers
 * `@sessionkit/core/node`; framework adapters `@sessionkit/core/adapter`.
 *
 * @packageDocumentation
 */
export { jsonCodec, type SessionCodec } from "./codec.js";
export type { SameSite } from "./cookie.js";
export {
  ErrorCode,
  isSessionError,
  SessionError,
  type SessionErrorOptions,
} from "./errors.js";
export { type WithSessionOptions, withSession } from "./http.js";
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
export type {
  InferSchemaOutput,
  StandardSchemaResult,
  StandardSchemaV1,
} from "./standard-schema.js";
export type {
  KeyPage,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  StoredSession,
} from "./store.js";
