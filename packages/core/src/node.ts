/**
 * `@sessionkit/core/node`: sessions on a plain node:http server, and the
 * response hold adapters built on node:http use.
 *
 * @packageDocumentation
 */
export {
  applyNodeHeaders,
  createNodeHandler,
  holdResponseUntil,
  type NodeHandlerOptions,
  type ResponseHold,
} from "./http.js";
