import { activeInstrumentation, type Config } from "./config.js";
import { ErrorCode, isSessionError, SessionError } from "./errors.js";

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
  const instrumentation = activeInstrumentation(config);
  if (instrumentation === undefined) return guardedCall(config, operation, call);
  return instrumentation.wrap(
    { kind: "store", operation, store: config.store.name, sessionName: config.cookieName },
    (details) => {
      details({});
      return guardedCall(config, operation, call);
    },
  );
}

/**
 * {@link storeCall}, then `onValue` with the store's answer, in one promise
 * where nothing is traced or watched: load runs this on every request. What
 * `onValue` throws or rejects with is passed on as it is, never wrapped as a
 * store failure.
 */
export function storeCallThen<T, R>(
  config: Config,
  operation: string,
  call: () => Promise<T>,
  onValue: (value: T) => R | PromiseLike<R>,
): Promise<R> {
  if (config.deadlines !== undefined || activeInstrumentation(config) !== undefined) {
    return storeCall(config, operation, call).then(onValue);
  }
  let answer: Promise<T>;
  try {
    answer = call();
  } catch (error) {
    return Promise.reject(failure(config, operation, error));
  }
  // The store answers or times out by itself, within storeTimeoutMs.
  return Promise.resolve(answer).then(onValue, (error: unknown) =>
    Promise.reject(failure(config, operation, error)),
  );
}

/** The error a store call fails with, reported once as a `store-error` event. */
function failure(config: Config, operation: string, error: unknown): unknown {
  const wrapped =
    isSessionError(error) || error instanceof TypeError
      ? error
      : new SessionError(
          ErrorCode.STORE_ERROR,
          `session store "${config.store.name}" failed during ${operation}`,
          { store: config.store.name, operation, cause: error },
        );
  config.emit("store-error", undefined, isSessionError(wrapped) ? wrapped.code : "TYPE_ERROR");
  return wrapped;
}

/**
 * Settles with the store's answer, or rejects with `STORE_TIMEOUT` once
 * `storeTimeoutMs` pass without one: whatever a store does, a request never
 * waits longer, and a late answer is ignored. One promise per call, no
 * `async` frame: this runs on every store call of every request.
 */
function guardedCall<T>(config: Config, operation: string, call: () => Promise<T>): Promise<T> {
  let answer: Promise<T>;
  try {
    answer = call();
  } catch (error) {
    return Promise.reject(failure(config, operation, error));
  }
  const { deadlines } = config;
  if (deadlines === undefined) {
    // The store answers or times out by itself, within storeTimeoutMs.
    return Promise.resolve(answer).then(undefined, (error: unknown) =>
      Promise.reject(failure(config, operation, error)),
    );
  }
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const settle = deadlines.watch(() => {
      timedOut = true;
      const timeout = new SessionError(
        ErrorCode.STORE_TIMEOUT,
        `session store "${config.store.name}" did not answer ${operation} within ${config.storeTimeoutMs} ms (storeTimeoutMs)`,
        { store: config.store.name, operation },
      );
      reject(failure(config, operation, timeout));
    });
    // A thenable that is not a real promise is adopted too; a plain value resolves at once.
    Promise.resolve(answer).then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        // A failure after the deadline is ignored like a late answer: reported once.
        if (!timedOut) reject(failure(config, operation, error));
      },
    );
  });
}
