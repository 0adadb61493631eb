import type { IncomingMessage, ServerResponse } from "node:http";
import { logFailure, reportLast } from "./adapter-kit.js";
import { loopTurn, resumeInTurn } from "./loop-turn.js";
import { holdResponseUntil, sendBareError } from "./response-hold.js";
import { commitForResponse } from "./session.js";
import { isThenable } from "./thenable.js";
import type { Session, SessionManager } from "./types.js";

/** Options of {@link createNodeHandler}. */
export interface NodeHandlerOptions {
  /**
   * Called once with each error from loading or committing the session or
   * from the handler; the client gets a bare 503/500/409, never the error.
   * node:http has no logger of its own, so the default is `console.error`.
   * @default console.error
   */
  readonly onError?: (error: unknown) => void;
}

/**
 * Wraps a plain `node:http` handler: the session is loaded before it runs and
 * committed before the first byte of the response is sent. Changes are
 * committed unless the handler threw: an answer with any status (a 4xx, a 503
 * after `session.destroy()`) commits; a handler that throws saves nothing and
 * gets a bare 500. `session.discard()` drops changes explicitly.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 *
 * createServer(
 *   createNodeHandler(sessions, async (req, res, session) => {
 *     session.set("visits", (session.get("visits") ?? 0) + 1);
 *     res.end(`visit ${session.get("visits")}`);
 *   }),
 * ).listen(3000);
 * ```
 */
export function createNodeHandler<Data extends object, Flash extends object>(
  manager: SessionManager<Data, Flash>,
  handler: (req: IncomingMessage, res: ServerResponse, session: Session<Data, Flash>) => unknown,
  options: NodeHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const onError = options.onError ?? logFailure;
  const fail = (res: ServerResponse, error: unknown): void => {
    reportLast(onError, error); // an onError that throws is logged; the client still gets its answer
    sendBareError(res, error);
  };
  return (req, res) => {
    const arrived = loopTurn();
    let loading: Promise<Session<Data, Flash>>;
    try {
      loading = manager.load(req);
    } catch (error) {
      fail(res, error);
      return;
    }
    const answer = (session: Session<Data, Flash>): void => {
      const hold = holdResponseUntil(res, () => commitForResponse(session), onError);
      // The handler threw or rejected: nothing of its session changes is saved.
      const failed = (error: unknown): void => {
        hold.cancel();
        fail(res, error);
      };
      let answered: unknown;
      try {
        answered = handler(req, res, session);
      } catch (error) {
        failed(error);
        return;
      }
      // A native promise passes through Promise.resolve as it is; another
      // thenable is adopted, so a `then` that throws rejects instead. A
      // synchronous answer takes no promise.
      if (isThenable(answered)) Promise.resolve(answered).then(undefined, failed);
    };
    // Under load, a load that needed no I/O answers on this turn's check
    // phase, with the turn's other requests (resumeInTurn).
    loading.then(
      (session) => resumeInTurn(arrived, answer, session),
      (error: unknown) => fail(res, error),
    );
  };
}
