import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { isSessionError } from "./errors.js";
import type { ResponseHeader, Session, SessionManager } from "./manager.js";

/** Anything with Fetch-style `get`, `set` and `append` (a `Headers`). */
export interface HeaderTarget {
  get(name: string): string | null;
  set(name: string, value: string): void;
  append(name: string, value: string): void;
}

function varyWithCookie(existing: string | null | undefined): string {
  if (existing === null || existing === undefined || existing.trim() === "") return "Cookie";
  const parts = existing.split(",").map((part) => part.trim().toLowerCase());
  return parts.includes("cookie") || parts.includes("*") ? existing : `${existing}, Cookie`;
}

/**
 * Adds a commit's headers to Fetch `Headers`: `Set-Cookie` is appended (other
 * cookies are kept, A10), `Vary` is merged, the rest replace (A37).
 */
export function applyHeaders(target: HeaderTarget, headers: readonly ResponseHeader[]): void {
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === "set-cookie") target.append(name, value);
    else if (lower === "vary") target.set(name, varyWithCookie(target.get(name)));
    else target.set(name, value);
  }
}

/** The same as {@link applyHeaders}, for a Node `ServerResponse` whose headers are not sent yet. */
export function applyNodeHeaders(res: ServerResponse, headers: readonly ResponseHeader[]): void {
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === "set-cookie") res.appendHeader(name, value);
    else if (lower === "vary") {
      const existing = res.getHeader("vary");
      res.setHeader(
        name,
        varyWithCookie(Array.isArray(existing) ? existing.join(", ") : existing?.toString()),
      );
    } else res.setHeader(name, value);
  }
}

/** Status and body for an error that escaped session handling: no stack, no details (A39). */
export function errorStatus(error: unknown): { status: 409 | 500 | 503; body: string } {
  const status = isSessionError(error) ? error.httpStatus : 500;
  return { status, body: STATUS_TEXT[status] };
}

const STATUS_TEXT = {
  409: "Conflict",
  500: "Internal Server Error",
  503: "Service Unavailable",
} as const;

/** A plain-text error `Response` for an error that escaped session handling (A39). */
export function errorResponse(error: unknown): Response {
  const { status, body } = errorStatus(error);
  return new Response(body, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
  });
}

/** The default `onError` of the HTTP helpers: every failure is logged once, never silently dropped. */
function logError(error: unknown): void {
  console.error(error);
}

/** Options of {@link withSession}. */
export interface WithSessionOptions {
  /**
   * Called once with each failure to load or commit the session; the client
   * gets a bare 503/500/409 response, never the error. A handler that throws is
   * not caught: its error reaches your runtime, which logs it.
   * @default console.error
   */
  readonly onError?: (error: unknown, request: Request) => void;
}

/**
 * Wraps a Fetch API handler (Next.js route handlers, Bun, Deno, Cloudflare-style
 * servers): loads the session, runs the handler, commits, and returns the
 * response with the session headers. A handler that throws saves nothing
 * (A25) and its error propagates; a failed load or commit gives a bare error
 * response instead (A24), reported to `options.onError`.
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
  const onError = options.onError ?? logError;
  return async (request) => {
    let session: Session<Data, Flash>;
    try {
      session = await manager.load(request);
    } catch (error) {
      onError(error, request);
      return errorResponse(error);
    }
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

/** Handle returned by {@link holdResponseUntil}. */
export interface ResponseHold {
  /** Give up the hold without running `beforeSend` (e.g. the handler threw). Returns whether nothing was sent yet. */
  cancel(): boolean;
}

/**
 * Holds a Node response until `beforeSend` has finished: the first
 * `writeHead`, `write`, `flushHeaders` or `end` runs `beforeSend`, queues the
 * call, then applies the headers it returns and replays the calls in order.
 * If `beforeSend` fails before anything was sent, the queued response is
 * discarded and a plain 503/500 goes out instead: never a half-sent response
 * (A24). Used by the node:http helper and the Express adapter.
 */
export function holdResponseUntil(
  res: ServerResponse,
  beforeSend: () => Promise<readonly ResponseHeader[]>,
  onError: (error: unknown) => void = () => {},
): ResponseHold {
  const original = {
    writeHead: res.writeHead,
    write: res.write,
    end: res.end,
    flushHeaders: res.flushHeaders,
  };
  const queue: Array<() => void> = [];
  let state: "holding" | "running" | "released" = "holding";

  // The held replacements, so restore() only undoes its own patch: a wrapper
  // installed after the hold (compression, say) stays in place and keeps
  // calling through the held function, which then forwards directly.
  const held: Partial<Record<keyof typeof original, unknown>> = {};
  const names = ["writeHead", "write", "end", "flushHeaders"] as const;
  // Methods the response had as its own before the hold (a wrapper installed
  // earlier) are put back; the others are deleted, which restores the
  // prototype's method and the object shape every other response has.
  const ownBefore = new Set(names.filter((name) => Object.hasOwn(res, name)));
  const restore = (): void => {
    for (const name of names) {
      if (res[name] !== held[name]) continue;
      if (ownBefore.has(name)) (res as unknown as Record<string, unknown>)[name] = original[name];
      else delete (res as unknown as Record<string, unknown>)[name];
    }
    state = "released";
  };
  const fail = (error: unknown): void => {
    restore();
    queue.length = 0;
    if (res.headersSent) {
      res.destroy();
    } else {
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      const { status, body } = errorStatus(error);
      res.statusCode = status;
      res.setHeader("Content-Type", "text/plain; charset=utf-8");
      res.setHeader("Cache-Control", "no-store");
      res.end(body);
    }
    onError(error);
  };
  const start = (): void => {
    if (state !== "holding") return;
    state = "running";
    beforeSend().then(
      (headers) => {
        if (state !== "running") return;
        restore();
        if (!res.headersSent) applyNodeHeaders(res, headers);
        for (const call of queue.splice(0)) call();
      },
      (error: unknown) => {
        if (state === "running") fail(error);
      },
    );
  };
  const hold = <A extends unknown[]>(replay: (...args: A) => void) =>
    function heldCall(this: unknown, ...args: A): ServerResponse {
      if (state === "released") {
        replay(...args);
        return res;
      }
      queue.push(() => replay(...args));
      start();
      return res;
    };

  res.writeHead = hold((...args: unknown[]) => {
    // writeHead(status, [message], headers) would replace our Set-Cookie:
    // apply its headers through setHeader/appendHeader instead.
    const last = args[args.length - 1];
    if (last !== null && typeof last === "object" && !Array.isArray(last)) {
      for (const [name, value] of Object.entries(last as OutgoingHttpHeaders)) {
        if (value === undefined) continue;
        if (name.toLowerCase() === "set-cookie") res.appendHeader(name, value as string | string[]);
        else res.setHeader(name, value);
      }
      args = args.slice(0, -1);
    }
    (original.writeHead as (...a: unknown[]) => void).apply(res, args);
  }) as ServerResponse["writeHead"];
  const heldWrite = hold((...a: unknown[]) =>
    (original.write as (...x: unknown[]) => void).apply(res, a),
  );
  res.write = ((...args: unknown[]) => {
    if (state === "released")
      return (original.write as (...x: unknown[]) => boolean).apply(res, args);
    heldWrite(...args);
    return true;
  }) as ServerResponse["write"];
  res.end = hold((...args: unknown[]) =>
    (original.end as (...a: unknown[]) => void).apply(res, args),
  ) as ServerResponse["end"];
  res.flushHeaders = hold(() => original.flushHeaders.apply(res)) as ServerResponse["flushHeaders"];
  held.writeHead = res.writeHead;
  held.write = res.write;
  held.end = res.end;
  held.flushHeaders = res.flushHeaders;

  return {
    cancel() {
      const untouched = state === "holding";
      if (state !== "released") restore();
      queue.length = 0;
      return untouched && !res.headersSent;
    },
  };
}

/** Options of {@link createNodeHandler}. */
export interface NodeHandlerOptions {
  /**
   * Called once with each error from loading or committing the session or
   * from the handler; the client gets a bare 503/500/409, never the error.
   * @default console.error
   */
  readonly onError?: (error: unknown) => void;
}

/**
 * Wraps a plain `node:http` handler: the session is loaded before it runs and
 * committed before the first byte of the response is sent.
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
  const onError = options.onError ?? logError;
  const sendError = (res: ServerResponse, error: unknown): void => {
    onError(error);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { status, body } = errorStatus(error);
    res.writeHead(status, {
      "Content-Type": "text/plain; charset=utf-8",
      "Cache-Control": "no-store",
    });
    res.end(body);
  };
  return (req, res) => {
    void (async () => {
      let session: Session<Data, Flash>;
      try {
        session = await manager.load(req);
      } catch (error) {
        sendError(res, error);
        return;
      }
      const hold = holdResponseUntil(res, async () => (await session.commit()).headers, onError);
      try {
        await handler(req, res, session);
      } catch (error) {
        // The handler failed: nothing of its session changes is saved (A25).
        hold.cancel();
        sendError(res, error);
      }
    })();
  };
}
