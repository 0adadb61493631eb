/**
 * Stable error codes. Callers branch on `error.code`, never on `instanceof`
 * (two copies of a package break `instanceof`; a string survives).
 */
export const ErrorCode = {
  /** The store's server could not be reached or dropped the connection. Retryable. */
  STORE_UNAVAILABLE: "STORE_UNAVAILABLE",
  /** The store did not answer within its operation timeout. Retryable. */
  STORE_TIMEOUT: "STORE_TIMEOUT",
  /** The store is locked by another writer (SQLite `SQLITE_BUSY`). Retryable. */
  STORE_BUSY: "STORE_BUSY",
  /** Any other failure inside a store (a bug, an unexpected server reply). */
  STORE_ERROR: "STORE_ERROR",
  /** A compare-and-set lost against a concurrent write and could not be merged. */
  CONFLICT: "CONFLICT",
  /** The encoded session is larger than `maxPayloadBytes`; nothing was written. */
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  /** The session data cannot be encoded (BigInt, a cycle, a codec that returned a non-string). */
  INVALID_DATA: "INVALID_DATA",
  /** The cookie that would be sent is larger than browsers accept (4096 bytes). */
  COOKIE_TOO_LARGE: "COOKIE_TOO_LARGE",
  /** A configuration value is missing, malformed or unsafe. Raised at start-up. */
  INVALID_CONFIG: "INVALID_CONFIG",
  /** `registry.open()` named a provider or URL scheme nobody registered. */
  UNKNOWN_PROVIDER: "UNKNOWN_PROVIDER",
  /** `registry.register()` was called twice for one name or scheme. */
  DUPLICATE_PROVIDER: "DUPLICATE_PROVIDER",
  /** The operation needs a store capability this store does not declare. */
  UNSUPPORTED: "UNSUPPORTED",
  /** The session was already committed or destroyed and cannot be changed further. */
  SESSION_CLOSED: "SESSION_CLOSED",
} as const;

/** One of the {@link ErrorCode} strings. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.STORE_UNAVAILABLE,
  ErrorCode.STORE_TIMEOUT,
  ErrorCode.STORE_BUSY,
]);

/** Options of {@link SessionError}. */
export interface SessionErrorOptions {
  /** Name of the store involved, such as `"redis"`. */
  readonly store?: string | undefined;
  /** The store operation that failed, such as `"get"` or `"set"`. */
  readonly operation?: string | undefined;
  /** The underlying error. Never shown to HTTP clients. */
  readonly cause?: unknown;
}

/**
 * The one error class of sessionkit. It carries a stable `code`, and for store
 * failures the `store` and `operation` involved. Messages never contain a
 * session token, a secret or a connection string: a store wraps driver errors
 * with {@link redactSecrets} applied to anything it copies into a message.
 *
 * @example
 * ```ts
 * try {
 *   await session.commit();
 * } catch (error) {
 *   if (isSessionError(error) && error.retryable) return new Response(null, { status: 503 });
 *   throw error;
 * }
 * ```
 */
export class SessionError extends Error {
  override readonly name = "SessionError";
  /** Stable, documented machine-readable code. */
  readonly code: ErrorCode;
  /** Name of the store involved, when a store failed. */
  readonly store: string | undefined;
  /** The store operation that failed, when a store failed. */
  readonly operation: string | undefined;

  constructor(code: ErrorCode, message: string, options: SessionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.store = options.store;
    this.operation = options.operation;
  }

  /**
   * True when the same request may succeed later: store outages, timeouts and
   * lock contention, exactly the codes answered with HTTP 503. A `CONFLICT`
   * is not retryable as is: the session changed or ended under the request,
   * which must load it again.
   */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  /**
   * The HTTP status an adapter answers with when this error escapes a request:
   * 503 for store outages, timeouts and lock contention; 409 for `CONFLICT`
   * (the session changed or ended under the request, so its write was not
   * saved); 500 otherwise.
   */
  get httpStatus(): 409 | 500 | 503 {
    if (this.code === ErrorCode.CONFLICT) return 409;
    return this.retryable ? 503 : 500;
  }
}

/** True for any {@link SessionError}, including one from another copy of core (checked by shape). */
export function isSessionError(value: unknown): value is SessionError {
  return (
    value instanceof SessionError ||
    (value instanceof Error &&
      value.name === "SessionError" &&
      typeof (value as { code?: unknown }).code === "string")
  );
}

/**
 * Removes credentials from a text before it goes into an error message:
 * the user-info part of URLs (`redis://:secret@host` becomes `redis://***@host`)
 * and `password=` style parameters.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1***@")
    .replace(/(password|passwd|pwd|secret|token)=([^&\s;]+)/gi, "$1=***");
}
