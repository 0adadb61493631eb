import type { IncomingMessage, ServerResponse } from "node:http";
import { RequestFailures } from "@sessionkit/core/adapter";

/**
 * The requests whose handler threw (seen by {@link sessionErrors}) or whose
 * session failed to load or commit: shared by every session middleware, so
 * none of their sessions is committed.
 */
export const failures: RequestFailures = new RequestFailures();

let installed = false;

/** Whether {@link sessionErrors} was ever created in this process. */
export function sessionErrorsInstalled(): boolean {
  return installed;
}

/** An Express error-handling middleware (four parameters). */
export type ErrorMiddleware = (
  error: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * The companion error middleware of {@link session}: Express answers a thrown
 * error (or `next(err)`) through its error handlers, which the session
 * middleware cannot see; this one marks the request as failed, so none of its
 * session changes are saved, and passes the error on unchanged with
 * `next(err)`. Install it once, after your routes and before your own error
 * handlers.
 *
 * Without it the adapter cannot tell a thrown error from a response your
 * handler answered with an error status, and falls back to saving nothing
 * for every 5xx response (a `destroy()` answered with a 503 is then not
 * saved either), and warns once through `onError`.
 *
 * @example
 * ```ts
 * app.use(session(sessions));
 * app.post("/cart", (req, res) => { … });
 * app.use(sessionErrors());
 * app.use((error, req, res, next) => { … }); // your error handler
 * ```
 */
export function sessionErrors(): ErrorMiddleware {
  installed = true;
  return function sessionErrors(error, req, _res, next) {
    failures.markFailed(req);
    next(error);
  };
}
