/**
 * `@sessionkit/core/adapter`: the kit every framework adapter is built from,
 * so each adapter holds only its framework hooks: the manager and option
 * checks, the one commit rule ({@link RequestFailures}), bare error
 * responses, framework-style HTTP errors, and `Set-Cookie`/`Vary` merging.
 *
 * @packageDocumentation
 */

export {
  appendSetCookie,
  applyHeaders,
  type HeaderTarget,
  type HeaderValue,
  mergeVary,
} from "./adapter-headers.js";
export {
  type AdapterOptionsInput,
  assertManager,
  type DeclaredSessions,
  type FailureReport,
  failureReporter,
  logFailure,
  RequestFailures,
  type ResolvedAdapterOptions,
  resolveAdapterOptions,
  type SessionManagerFor,
  slotState,
} from "./adapter-kit.js";
export {
  type BareError,
  bareError,
  type ErrorStatus,
  errorResponse,
  errorStatus,
  SessionHttpError,
} from "./http-errors.js";
export { type ObjectSlot, objectSlot } from "./object-slot.js";
export { commitForResponse } from "./session.js";
