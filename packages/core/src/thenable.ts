/**
 * Whether `value` is a promise or promise-like (a `then` method): what a
 * caller awaits only when it has to, so a synchronous answer takes no
 * promise.
 */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
