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
  return activeInstrumentation(config) === undefined
    ? guardedCall(config, operation, call, onValue)
    : storeCall(config, operation, call).then(onValue);
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
 * Settles with the store's answer (passed through `onValue` when given), or
 * rejects with `STORE_TIMEOUT` once `storeTimeoutMs` pass without one:
 * whatever a store does, a request never waits longer, and a late answer is
 * ignored. No `async` frame, and one promise per call where the store bounds
 * its own calls: this runs on every store call of every request.
 */
function guardedCall<T, R = T>(
  config: Config,
  operation: string,
  call: () => Promise<T>,
  onValue?: (value: T) => R | PromiseLike<R>,
): Promise<R> {
  let answer: Promise<T>;
  try {
    answer = call();
  } catch (error) {
    return Promise.reject(failure(config, operation, error));
  }
  const { deadlines } = config;
  if (deadlines === undefined) {
    // The store answers or times out by itself, within storeTimeoutMs. What
    // onValue throws is passed on as it is, never reported as a store failure.
    return Promise.resolve(answer).then(onValue, (error: unknown) =>
      Promise.reject(failure(config, operation, error)),
    ) as Promise<R>;
  }
  const watched = new Promise<T>((resolve, reject) => {
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
  return (onValue === undefined ? watched : watched.then(onValue)) as Promise<R>;
}
