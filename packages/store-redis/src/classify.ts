import { ErrorCode, redactSecrets, SessionError } from "@sessionkit/core/store";
import { NotConnectedError } from "./connection.js";

const STORE = "redis";

/**
 * Messages of ioredis and Redis errors that mean "the server is not reachable
 * right now". "Too many Cluster redirections" happens while a Cluster fails
 * over: slots point at a master that is gone or not yet promoted.
 */
const UNAVAILABLE =
  /Stream isn't writeable|Connection is closed|connect E|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|MaxRetriesPerRequest|None of startup nodes|Failed to refresh slots cache|Too many Cluster redirections|All sentinels are unreachable|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|LOADING|READONLY|NOREPLICAS|Cluster isn't ready/;

/** Whether `error` is ioredis's `commandTimeout` rejection. */
export function isCommandTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === "Command timed out";
}

function codeOf(error: unknown): ErrorCode | undefined {
  if (error instanceof NotConnectedError) return ErrorCode.STORE_UNAVAILABLE;
  if (isCommandTimeout(error)) return ErrorCode.STORE_TIMEOUT;
  const message = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  // A script past busy-reply-threshold: the server answers nothing else until it ends.
  if (/^\S+ BUSY /.test(message)) return ErrorCode.STORE_BUSY;
  if (UNAVAILABLE.test(message)) return ErrorCode.STORE_UNAVAILABLE;
  return undefined;
}

/**
 * The `classify` of the Redis store: ioredis and Redis errors that mean the
 * server is unreachable, failing over or loading → `STORE_UNAVAILABLE`; a
 * command past its ioredis `commandTimeout` → `STORE_TIMEOUT`; `BUSY` →
 * `STORE_BUSY`; anything else undefined (core reports it as `STORE_ERROR`).
 * Messages are redacted: a connection error may quote a URL.
 */
export function classifyRedisError(error: unknown, operation: string): SessionError | undefined {
  const code = codeOf(error);
  if (code === undefined) return undefined;
  const detail = error instanceof Error ? error.message : String(error);
  return new SessionError(
    code,
    `${STORE}: ${operation}() failed: ${redactSecrets(detail).slice(0, 300)}`,
    { store: STORE, operation, cause: error },
  );
}
