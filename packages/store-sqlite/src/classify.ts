import { ErrorCode, isSessionError, redactSecrets, SessionError } from "@sessionkit/core/store";
import type { SqliteDatabase } from "./options.js";

const NAME = "sqlite";

/** What a driver or system error may say about itself, without its message. */
function describe(error: unknown): { code: string | undefined; detail: string } {
  const code = (error as { code?: unknown } | null)?.code;
  // A Node system error's message holds the file path; its code says enough.
  const system = typeof (error as { syscall?: unknown } | null)?.syscall === "string";
  const detail = system
    ? String(code)
    : redactSecrets(error instanceof Error ? error.message : String(error));
  return { code: typeof code === "string" ? code : undefined, detail };
}

function failure(code: ErrorCode, operation: string, detail: string, cause: unknown): SessionError {
  return new SessionError(code, `${NAME}: ${operation}() failed: ${detail}`, {
    store: NAME,
    operation,
    cause,
  });
}

/**
 * The store's `classify`: maps what better-sqlite3 threw to the contract's
 * codes, the driver error kept as `cause`. A connection closed under the store
 * is `STORE_UNAVAILABLE`; lock contention (`SQLITE_BUSY`, `SQLITE_LOCKED` and
 * their extended codes, once `busy_timeout` ran out) the retryable
 * `STORE_BUSY`; a file that cannot be opened `STORE_UNAVAILABLE`. Anything
 * else is left to core, which makes it `STORE_ERROR`.
 */
export function sqliteClassifier(
  database: SqliteDatabase,
): (error: unknown, operation: string) => SessionError | undefined {
  return (error, operation) => {
    const { code, detail } = describe(error);
    if (!database.open) {
      return failure(ErrorCode.STORE_UNAVAILABLE, operation, "the database is closed", error);
    }
    if (code === undefined) return undefined;
    if (/^SQLITE_(BUSY|LOCKED)/.test(code)) {
      return failure(ErrorCode.STORE_BUSY, operation, detail, error);
    }
    if (/^SQLITE_CANTOPEN/.test(code)) {
      return failure(ErrorCode.STORE_UNAVAILABLE, operation, detail, error);
    }
    if (/^SQLITE_ERROR/.test(code) && /no such table/.test(detail)) {
      return failure(
        ErrorCode.STORE_ERROR,
        operation,
        `${detail} (no schema: call store.migrate(), or open the store with migrate: "auto")`,
        error,
      );
    }
    return undefined;
  };
}

/**
 * A failure while the factory opens, configures or migrates the database,
 * always a `SessionError`. Before there is a connection (`database`
 * undefined), a file that cannot be created or opened is the embedded
 * store's "server down": `STORE_UNAVAILABLE`, with no path in the message.
 */
export function openError(
  error: unknown,
  database: SqliteDatabase | undefined,
  operation = "open",
): SessionError {
  if (isSessionError(error)) return error;
  const classified =
    database === undefined ? undefined : sqliteClassifier(database)(error, operation);
  if (classified !== undefined) return classified;
  const code = database === undefined ? ErrorCode.STORE_UNAVAILABLE : ErrorCode.STORE_ERROR;
  return failure(code, operation, describe(error).detail, error);
}
