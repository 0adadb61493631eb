import type { Session, SessionData, SessionManager } from "@sessionkit/core";
import {
  applyHeaders,
  assertManager,
  errorResponse,
  errorStatus,
  failureReporter,
  logFailure,
  RequestFailures,
  resolveAdapterOptions,
  slotState,
} from "@sessionkit/core/adapter";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";

const ADAPTER = "@sessionkit/hono";

/**
 * Hono `Variables` holding a session under `Name`. Use it in the app's env so
 * `c.get(Name)` is typed; intersect several for several named sessions.
 *
 * @example
 * ```ts
 * type Env = { Variables: SessionVariables<"session", CartData> & SessionVariables<"prefs", PrefsData> };
 * const app = new Hono<Env>();
 * ```
 */
export type SessionVariables<
  Name extends string = "session",
  Data extends object = SessionData,
  Flash extends object = SessionData,
> = { [Key in Name]: Session<Data, Flash> };

/** Options of {@link sessionMiddleware}. */
export interface SessionAdapterOptions<Name extends string = "session"> {
  /**
   * The context variable holding the session (`c.get(sessionName)`): an
   * identifier other than `__proto__`, `constructor` and `prototype`. Give
   * each manager its own to use several sessions in one request.
   * @default "session"
   */
  readonly sessionName?: Name;
  /**
   * Called once with each failure to load or commit the session, with the
   * original error; the failure is also thrown to `app.onError` as an
   * `HTTPException`. Hono has no logger and its default error handler does
   * not log an `HTTPException`, so without this option the failure is logged
   * with `console.error` (pass `() => {}` when your `app.onError` logs it).
   * @default console.error
   */
  readonly onError?: (error: unknown, c: Context) => void;
}

// Requests whose handler threw or whose session failed, shared by every
// middleware instance: once one session fails, no other session of it commits.
const failures = new RequestFailures();

/**
 * Starts the error response from nothing: the app's response and every
 * header prepared with `c.header()` (the app's cookies, another session's)
 * are dropped, so `app.onError` answers bare unless it adds headers itself.
 */
function clearResponse(c: Context): void {
  const previous = c.finalized ? c.res : undefined;
  previous?.body?.cancel().catch(() => {});
  // Unset, the response getter builds one from the prepared headers: read
  // their names from it, then delete each through c.header().
  c.res = undefined;
  c.finalized = false;
  const prepared = [...c.res.headers.keys()];
  c.res = undefined;
  c.finalized = false;
  for (const name of prepared) c.header(name, undefined);
}

/**
 * Hono 4 middleware: loads the session before the handler (`c.get("session")`),
 * and after it commits and adds the session headers to `c.res`. Hono sends
 * nothing before the middleware chain returns, so every session is committed
 * before any byte goes out.
 *
 * Changes are committed unless the handler threw (Hono records it in
 * `c.error`): a response with any status (a 4xx, a 503 after
 * `session.destroy()`) commits; a thrown error, an `HTTPException` included,
 * saves nothing; `session.discard()` drops changes explicitly. A failed load
 * or commit is thrown as an `HTTPException` (status 503/500/409, a bare
 * `text/plain` response as `res`, the original error as `cause`) for
 * `app.onError` to answer; Hono's default answers that bare response.
 *
 * @example
 * ```ts
 * const app = new Hono<{ Variables: SessionVariables<"session", { visits: number }> }>();
 * app.use(sessionMiddleware(sessions));
 * app.get("/", (c) => {
 *   const session = c.get("session");
 *   session.set("visits", (session.get("visits") ?? 0) + 1);
 *   return c.text(`visit ${session.get("visits")}`);
 * });
 * ```
 */
export function sessionMiddleware<
  Data extends object,
  Flash extends object,
  Name extends string = "session",
>(
  manager: SessionManager<Data, Flash>,
  options?: SessionAdapterOptions<Name>,
): MiddlewareHandler<{ Variables: SessionVariables<Name, Data, Flash> }> {
  assertManager(manager, ADAPTER);
  const { sessionName, onError } = resolveAdapterOptions(ADAPTER, options);
  const report = failureReporter(onError, logFailure);
  const raise = (c: Context, error: unknown): HTTPException => {
    failures.markFailed(c);
    // Hono's default error handler does not log an HTTPException: report it here.
    report(error, c, false);
    clearResponse(c);
    const { status, body } = errorStatus(error);
    return new HTTPException(status, { res: errorResponse(error), message: body, cause: error });
  };
  return async (c, next) => {
    let session: Session<Data, Flash>;
    try {
      session = await manager.load(c.req.raw);
    } catch (error) {
      throw raise(c, error);
    }
    const state = slotState(c.get(sessionName), session, ADAPTER, `c.get("${sessionName}")`);
    if (state instanceof TypeError) throw raise(c, state);
    if (state === "same") {
      // The same manager installed twice: the outer middleware commits.
      await next();
      return;
    }
    c.set(sessionName, session as SessionVariables<Name, Data, Flash>[Name]);
    await next();
    // Hono caught a throw of the handler (or of an inner middleware) and let
    // app.onError answer: save nothing.
    if (c.error !== undefined) failures.markFailed(c);
    if (!failures.shouldCommit(c)) return;
    let headers: Awaited<ReturnType<typeof session.commit>>["headers"];
    try {
      headers = (await session.commit()).headers;
    } catch (error) {
      throw raise(c, error);
    }
    try {
      applyHeaders(c.res.headers, headers);
    } catch {
      // Immutable headers (Response.redirect(), a fetch() response): copy them.
      const response = c.res;
      const merged = new Headers(response.headers);
      applyHeaders(merged, headers);
      // Unset first, or Hono's setter merges the old response's headers back in.
      c.res = undefined;
      c.res = new Response(response.body, {
        status: response.status,
        statusText: response.statusText,
        headers: merged,
      });
    }
  };
}
