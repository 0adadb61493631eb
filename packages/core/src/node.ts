/**
 * `@sessionkit/core/node`: sessions on a plain node:http server, and what
 * adapters built on node:http use: the response hold, and the event-loop
 * turns a request continues in once its session loaded.
 *
 * @packageDocumentation
 */
export { defersInTurn, loopTurn, resumeInTurn } from "./loop-turn.js";
export { createNodeHandler, type NodeHandlerOptions } from "./node-handler.js";
export {
  applyNodeHeaders,
  type BeforeSend,
  holdResponseUntil,
  type ResponseHold,
} from "./response-hold.js";
