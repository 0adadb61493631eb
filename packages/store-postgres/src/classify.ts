import { ErrorCode, isSessionError, redactSecrets, SessionError } from "@sessionkit/core/store";
import { STORE } from "./options.js";

const UNAVAILABLE_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ETIMEDOUT",
]);
// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections.
const UNAVAILABLE_SQL_CODES = new Set(["57P01", "57P02", "57P03", "53300"]);
// 55P03 lock_not_available, 40001 serialization_failure, 40P01 deadlock_detected.
const BUSY_SQL_CODES = new Set(["55P03", "40001", "40P01"]);

/** The `STORE_*` code of a driver error, or `undefined` for any other failure. */
function codeOf(error: unknown): ErrorCode | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : "";
  // 57014: statement_timeout (or a cancel); the other two are pg's client-side read timeout.
  if (code === "57014" || message === "Query read timeout") return ErrorCode.STORE_TIMEOUT;
  // pg-pool's wait for a connection, and pg's connect timeout: no answer in time.
  if (
    message.startsWith("timeout exceeded when trying to connect") ||
    message.includes("due to connection timeout")
  ) {
    return ErrorCode.STORE_TIMEOUT;
  }
  if (typeof code === "string") {
    if (BUSY_SQL_CODES.has(code)) return ErrorCode.STORE_BUSY;
    if (UNAVAILABLE_SQL_CODES.has(code) || code.startsWith("08")) {
      return ErrorCode.STORE_UNAVAILABLE;
    }
    if (UNAVAILABLE_NODE_CODES.has(code)) return ErrorCode.STORE_UNAVAILABLE;
  }
  // Node's happy-eyeballs connect reports an AggregateError of per-address failures.
  if (error instanceof AggregateError && error.errors.some((e) => codeOf(e) !== undefined)) {
    return ErrorCode.STORE_UNAVAILABLE;
  }
  if (
    /Connection terminated|not queryable|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
      message,
    )
  ) {
    return ErrorCode.STORE_UNAVAILABLE;
  }
  return undefined;
}

/** What to do about an error whose cause is known to be a setting, appended to its message. */
function hintOf(error: unknown, detail: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "42P01") {
    return ' (the table does not exist: call store.migrate(), or leave the option migrate at "auto")';
  }
  if (code === "42P05" || code === "26000") {
    // What named statements look like through a transaction-pooling PgBouncer.
    return ' (prepared statements are not kept per connection: behind a pooler in transaction mode, set the store option pooler: "transaction")';
  }
  if (detail.includes("unsupported startup parameter")) {
    return ' (the pooler rejects this connection parameter: with pooler: "transaction" the store\'s own pool sends none; remove it from your pool settings or URL)';
  }
  return "";
}

/**
 * The `classify` of the Postgres store: a `SessionError` for the driver
 * errors it recognises (connection lost or refused: `STORE_UNAVAILABLE`;
 * statement, read or connect timeout: `STORE_TIMEOUT`; lock not available,
 * serialization failure, deadlock: `STORE_BUSY`) and for errors a setting
 * explains (a missing table, a pooler in transaction mode: with a hint), else
 * `undefined`. Messages are passed through `redactSecrets`.
 */
export function classifyPostgresError(error: unknown, operation: string): SessionError | undefined {
  const detail = redactSecrets(error instanceof Error ? error.message : String(error));
  const hint = hintOf(error, detail);
  const code = codeOf(error) ?? (hint === "" ? undefined : ErrorCode.STORE_ERROR);
  if (code === undefined) return undefined;
  return new SessionError(code, `${STORE}: ${operation}() failed: ${detail}${hint}`, {
    store: STORE,
    operation,
    cause: error,
  });
}

/**
 * Any error as a `SessionError`, for what runs outside the calls core wraps
 * (`migrate()`, idle pool connections): a `SessionError` as it is, else the
 * classified error, else `STORE_ERROR`.
 */
export function toStoreError(error: unknown, operation: string): SessionError {
  if (isSessionError(error)) return error;
  return (
    classifyPostgresError(error, operation) ??
    new SessionError(
      ErrorCode.STORE_ERROR,
      `${STORE}: ${operation}() failed: ${redactSecrets(error instanceof Error ? error.message : String(error))}`,
      { store: STORE, operation, cause: error },
    )
  );
}
