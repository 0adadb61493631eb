// The Fetch API wrapper. The adapter kit is in adapter-kit.ts, http-errors.ts
// and adapter-headers.ts; the node:http pieces in response-hold.ts and
// node-handler.ts.

import { applyHeaders } from "./adapter-headers.js";
import { logFailure } from "./adapter-kit.js";
import { errorResponse } from "./http-errors.js";
import type { ResponseHeader, Session, SessionManager } from "./types.js";

/** Options of {@link withSession}. */
export interface WithSessionOptions {
  /**
   * Called once with each failure to load or commit the session; the client
   * gets a bare 503/500/409 response, never the error. A handler that throws is
   * not caught: its error reaches your runtime, which logs it. The Fetch API
   * has no logger of its own, so the default is `console.error`.
   * @default console.error
   */
  readonly onError?: (error: unknown, request: Request) => void;
}

/**
 * Wraps a Fetch API handler (Next.js route handlers, Bun, Deno, Cloudflare-style
 * servers): loads the session, runs the handler, commits, and returns the
 * response with the session headers. Changes are committed unless the handler
 * threw: a response with any status (a 4xx, a 503 after `session.destroy()`)
 * commits; a handler that throws saves nothing and its error propagates.
 * `session.discard()` drops changes explicitly. A failed load or commit gives
 * a bare error response instead, reported to `options.onError`.
 *
 * @example
 * ```ts
 * export const GET = withSession(sessions, async (request, session) => {
 *   session.set("visits", (session.get("visits") ?? 0) + 1);
 *   return Response.json({ visits: session.get("visits") });
 * });
 * ```
 */
export function withSession<Data extends object, Flash extends object>(
  manager: SessionManager<Data, Flash>,
  handler: (request: Request, session: Session<Data, Flash>) => Response | Promise<Response>,
  options: WithSessionOptions = {},
): (request: Request) => Promise<Response> {
  const onError = options.onError ?? logFailure;
  return async (request) => {
    let session: Session<Data, Flash>;
    try {
      session = await manager.load(request);
    } catch (error) {
      onError(error, request);
      return errorResponse(error);
    }
    // A throw propagates from here: nothing is committed.
    const response = await handler(request, session);
    let headers: readonly ResponseHeader[];
    try {
      headers = (await session.commit()).headers;
    } catch (error) {
      onError(error, request);
      await response.body?.cancel();
      return errorResponse(error);
    }
    // Responses from fetch() or Response.redirect() have immutable headers: copy.
    const merged = new Headers(response.headers);
    applyHeaders(merged, headers);
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers: merged,
    });
  };
}
