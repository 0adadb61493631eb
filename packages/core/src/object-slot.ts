/**
 * Memory attached to one request or response object, for as long as the object
 * lives: a manager's session of a request, an adapter's pending commit of a
 * response.
 */
export interface ObjectSlot<T> {
  /** The value kept for `target`, or `undefined`. */
  get(target: object): T | undefined;
  /** Keeps `value` for `target`; `undefined` forgets it. */
  set(target: object, value: T | undefined): void;
}

/**
 * An {@link ObjectSlot} that keeps its value on the object itself, under a
 * symbol of its own that is not enumerable (it never shows in `Object.keys`,
 * spreads, JSON or `console.log`), and in a `WeakMap` only for an object that
 * takes no new property (frozen, sealed, or a Proxy that refuses). A `WeakMap`
 * entry per request costs the garbage collector about 3 µs per request (the
 * ephemeron bookkeeping of a table whose keys die young); a property costs a
 * tenth of that.
 *
 * @param description - The symbol's description, for debugging.
 *
 * @example
 * ```ts
 * const pending = objectSlot<PendingCommit>("my-adapter.pending");
 * pending.set(res, { started: false });
 * pending.get(res)?.started; // false
 * ```
 */
export function objectSlot<T>(description: string): ObjectSlot<T> {
  const slot = Symbol(description);
  type Slotted = { [slot]?: T | undefined };
  const unslotted = new WeakMap<object, T>();
  let anyUnslotted = false;
  return {
    get: (target) =>
      (target as Slotted)[slot] ?? (anyUnslotted ? unslotted.get(target) : undefined),
    set(target, value) {
      if (Object.hasOwn(target, slot)) {
        (target as Slotted)[slot] = value;
        return;
      }
      if (value === undefined) {
        unslotted.delete(target);
        return;
      }
      let placed: boolean;
      try {
        placed = Reflect.defineProperty(target, slot, { value, writable: true });
      } catch {
        placed = false; // a Proxy whose trap throws
      }
      if (!placed) {
        anyUnslotted = true;
        unslotted.set(target, value);
      }
    },
  };
}
