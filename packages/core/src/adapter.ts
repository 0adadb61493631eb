/**
 * `@sessionkit/core/adapter`: the kit every framework adapter is built from,
 * so each adapter holds only its framework hooks.
 *
 * @packageDocumentation
 */
export {
  applyHeaders,
  errorResponse,
  errorStatus,
  type HeaderTarget,
} from "./http.js";
