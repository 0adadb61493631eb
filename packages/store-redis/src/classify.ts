import { ErrorCode, redactSecrets, SessionError } from "@sessionkit/core/store";
import { NotConnectedError } from "./connection.js";

const STORE = "redis";

/**
 * Messages of ioredis, node-redis and Redis errors that mean "the server is
 * not reachable right now". "Too many Cluster redirections" happens while a
 * Cluster fails over: slots point at a master that is gone or not yet
 * promoted. node-redis: a client closed, offline or whose socket closed under
 * a command, no Cluster root node or Sentinel reachable, no master known.
 */
const UNAVAILABLE =
  /Stream isn't writeable|Connection is closed|connect E|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|MaxRetriesPerRequest|None of startup nodes|Failed to refresh slots cache|Too many Cluster redirections|All sentinels are unreachable|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|LOADING|READONLY|NOREPLICAS|Cluster isn't ready|The client is closed|The client is offline|Socket closed unexpectedly|Disconnects client|Connection timeout|All the root nodes are unavailable|Cluster closed|None of the sentinels are available|connect to any sentinel|no valid master node/;

/**
 * Whether `error` is a command timeout: ioredis's `commandTimeout`, or
 * node-redis's `TimeoutError` (its `timeout` command option; its message is
 * empty) and `SocketTimeoutError` (`socket.socketTimeout`).
 */
export function isCommandTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.message === "Command timed out" ||
    error.constructor.name === "TimeoutError" ||
    error.message.startsWith("Socket timeout timeout")
  );
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
