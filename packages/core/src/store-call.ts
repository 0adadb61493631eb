import type { Config } from "./config.js";
import { ErrorCode, isSessionError, SessionError } from "./errors.js";

/**
 * Settles with the store's answer, or rejects with `STORE_TIMEOUT` once
 * `timeoutMs` pass without one: whatever a store does, a request never
 * waits longer. A late answer is ignored.
 */
function withDeadline<T>(config: Config, operation: string, call: () => Promise<T>): Promise<T> {
  const answer = call();
  return new Promise<T>((resolve, reject) => {
    const settle = config.deadlines.watch(() => {
      reject(
        new SessionError(
          ErrorCode.STORE_TIMEOUT,
          `session store "${config.store.name}" did not answer ${operation} within ${config.storeTimeoutMs} ms (storeTimeoutMs)`,
          { store: config.store.name, operation },
        ),
      );
    });
    // A thenable that is not a real promise is adopted too; a plain value resolves at once.
    Promise.resolve(answer).then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}

/**
 * Calls the store under the core deadline, wraps anything it threw (even
 * synchronously) into a SessionError, and reports it; traced when the manager
 * has instrumentation.
 */
export function storeCall<T>(
  config: Config,
  operation: string,
  call: () => Promise<T>,
): Promise<T> {
  const { instrumentation } = config;
  if (instrumentation === undefined) return guardedCall(config, operation, call);
  return instrumentation.wrap(
    { kind: "store", operation, store: config.store.name, sessionName: config.cookieName },
    (details) => {
      details({});
      return guardedCall(config, operation, call);
    },
  );
}

async function guardedCall<T>(
  config: Config,
  operation: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await withDeadline(config, operation, call);
  } catch (error) {
    const wrapped = isSessionError(error)
      ? error
      : error instanceof TypeError
        ? error
        : new SessionError(
            ErrorCode.STORE_ERROR,
            `session store "${config.store.name}" failed during ${operation}`,
            {
              store: config.store.name,
              operation,
              cause: error,
            },
          );
    config.emit("store-error", undefined, isSessionError(wrapped) ? wrapped.code : "TYPE_ERROR");
    throw wrapped;
  }
}
