import { isSessionError } from "./errors.js";

/** The statuses a session failure is answered with: 503 (store outage), 409 (`CONFLICT`), 500 (anything else). */
export type ErrorStatus = 409 | 500 | 503;

const STATUS_TEXT: Readonly<Record<ErrorStatus, string>> = {
  409: "Conflict",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Headers of every bare error response: plain text, never cached. */
const BARE_HEADERS = {
  "Content-Type": "text/plain; charset=utf-8",
  "Cache-Control": "no-store",
} as const;

/** A bare error response, as plain data any server can send. */
export interface BareError {
  /** The HTTP status. */
  readonly status: ErrorStatus;
  /** `Content-Type: text/plain; charset=utf-8` and `Cache-Control: no-store`, nothing else. */
  readonly headers: Readonly<Record<"Content-Type" | "Cache-Control", string>>;
  /** The status text (`"Service Unavailable"`): no stack, no details. */
  readonly body: string;
}

/**
 * The bare response for a status: its status text as a `text/plain` body,
 * `Cache-Control: no-store`, and no other header (so no `Set-Cookie`).
 *
 * @example
 * ```ts
 * const { status, headers, body } = bareError(503);
 * res.writeHead(status, headers).end(body);
 * ```
 */
export function bareError(status: ErrorStatus): BareError {
  return { status, headers: BARE_HEADERS, body: STATUS_TEXT[status] };
}

/**
 * Status and body for an error that escaped session handling: the error's
 * `httpStatus` for a `SessionError`, else 500; the body is the status text only.
 */
export function errorStatus(error: unknown): { status: ErrorStatus; body: string } {
  const status = isSessionError(error) ? error.httpStatus : 500;
  return { status, body: STATUS_TEXT[status] };
}

/**
 * A bare Fetch `Response` for an error that escaped session handling: status
 * from {@link errorStatus}, plain-text status line, `Cache-Control: no-store`.
 *
 * @example
 * ```ts
 * try {
 *   return await handle(request);
 * } catch (error) {
 *   return errorResponse(error);
 * }
 * ```
 */
export function errorResponse(error: unknown): Response {
  const { status, headers, body } = bareError(errorStatus(error).status);
  return new Response(body, { status, headers });
}

/**
 * A session failure in the shape HTTP frameworks expect of an error
 * (`http-errors` style): `status` and `statusCode` set, `expose: false`, a
 * bare status text as its message and `Cache-Control: no-store` in `headers`,
 * so a default error handler (Express's finalhandler, Koa's, Fastify's)
 * answers a bare response. The original error is its `cause`; its `stack`
 * names the cause, so logs that print only stacks still show what failed.
 *
 * @example
 * ```ts
 * manager.load(req).then(onLoaded, (error) => next(new SessionHttpError(error)));
 * ```
 */
export class SessionHttpError extends Error {
  override readonly name = "SessionHttpError";
  /** The HTTP status to answer with. */
  readonly status: ErrorStatus;
  /** The same as {@link SessionHttpError.status}, for frameworks that read `statusCode`. */
  readonly statusCode: ErrorStatus;
  /** Always `false`: the message is never meant for the client beyond the status text. */
  readonly expose = false;
  /** Headers a framework's default error handler adds to the error response. */
  readonly headers: Readonly<Record<string, string>> = { "Cache-Control": "no-store" };

  constructor(cause: unknown) {
    const { status, body } = errorStatus(cause);
    super(body, { cause });
    this.status = status;
    this.statusCode = status;
    const causeLine =
      cause instanceof Error
        ? `${cause.name}${isSessionError(cause) ? ` [${cause.code}]` : ""}: ${cause.message}`
        : String(cause);
    const stack = this.stack ?? "";
    const frames = stack.includes("\n") ? stack.slice(stack.indexOf("\n")) : "";
    this.stack = `${this.name}: ${body} (caused by ${causeLine})${frames}`;
  }
}
