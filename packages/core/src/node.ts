/**
 * `@sessionkit/core/node`: sessions on a plain node:http server, and the
 * response hold adapters built on node:http use.
 *
 * @packageDocumentation
 */
export { createNodeHandler, type NodeHandlerOptions } from "./node-handler.js";
export { applyNodeHeaders, holdResponseUntil, type ResponseHold } from "./response-hold.js";
