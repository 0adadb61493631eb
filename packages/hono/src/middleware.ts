import {
  applyHeaders,
  errorResponse,
  type Session,
  type SessionData,
  type SessionManager,
} from "@sessionkit/core";
import type { Context, MiddlewareHandler } from "hono";

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
export interface SessionMiddlewareOptions<Name extends string = "session"> {
  /**
   * The context variable holding the session (`c.get(variable)`). Give each
   * manager its own name to use several sessions in one request.
   * @default "session"
   */
  readonly variable?: Name;
  /**
   * Called with load and commit failures; the client gets a bare 503/500.
   * @default console.error
   */
  readonly onError?: (error: unknown, c: Context) => void;
}

// Requests whose session handling failed, shared by every middleware instance:
// once one session fails, no other session of that request is committed or
// sends a cookie, and the bare error response is left alone.
const failedContexts = new WeakSet<Context>();

/** Replaces `c.res` without Hono's setter merging the old response's headers into it. */
function replaceResponse(c: Context, response: Response): void {
  c.res = undefined;
  c.res = response;
}

function fail(c: Context, error: unknown, onError: (error: unknown, c: Context) => void): void {
  failedContexts.add(c);
  onError(error, c);
  const previous = c.finalized ? c.res : undefined;
  previous?.body?.cancel().catch(() => {});
  // A bare response: no app headers, no session cookie, no details (A24, A39).
  replaceResponse(c, errorResponse(error));
}

/**
 * Hono 4 middleware: loads the session before the handler (`c.get("session")`),
 * and after it commits and adds the session headers to `c.res`. A handler that
 * threw (Hono records it in `c.error`) saves nothing; a failed commit replaces
 * the response with a bare 503/500. Hono sends nothing before the middleware
 * chain returns, so every session is committed before any byte goes out.
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
  options: SessionMiddlewareOptions<Name> = {},
): MiddlewareHandler<{ Variables: SessionVariables<Name, Data, Flash> }> {
  if (manager === null || typeof manager !== "object" || typeof manager.load !== "function") {
    throw new TypeError("sessionMiddleware(manager): pass a SessionManager");
  }
  const variable = (options.variable ?? "session") as Name;
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  return async (c, next) => {
    let session: Session<Data, Flash>;
    try {
      session = await manager.load(c.req.raw);
    } catch (error) {
      fail(c, error, onError);
      return;
    }
    c.set(variable, session as SessionVariables<Name, Data, Flash>[Name]);
    await next();
    // The handler threw and an error handler produced the response: save nothing (A25).
    if (c.error !== undefined || failedContexts.has(c)) return;
    let headers: Awaited<ReturnType<typeof session.commit>>["headers"];
    try {
      headers = (await session.commit()).headers;
    } catch (error) {
      fail(c, error, onError);
      return;
    }
    try {
      applyHeaders(c.res.headers, headers);
    } catch {
      // Immutable headers (Response.redirect(), a fetch() response): copy them.
      const response = c.res;
      const merged = new Headers(response.headers);
      applyHeaders(merged, headers);
      replaceResponse(
        c,
        new Response(response.body, {
          status: response.status,
          statusText: response.statusText,
          headers: merged,
        }),
      );
    }
  };
}
