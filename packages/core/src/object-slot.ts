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
 * The one property every slot shares on an object: a plain object holding each
 * slot's value under that slot's own symbol. Adding a property to an object
 * whose prototype was replaced (Express does it to every `req` and `res`)
 * costs V8 on Node 20 and 22 a new hidden class each time, microseconds per
 * property; however many slots a request uses, it gets one such property.
 * A registered symbol, so that every copy of this module in a process (two
 * versions installed, a test runner's per-file module instances) shares it
 * too; each slot keeps its own unique symbol inside.
 */
const SLOTS = Symbol.for("sessionkit.slots");

type Slots = Record<symbol, unknown>;

/**
 * An {@link ObjectSlot} that keeps its value on the object itself: in a
 * holder object under one hidden property that every slot shares (a symbol
 * property, not enumerable: it never shows in `Object.keys`, spreads, JSON
 * or `console.log`), each slot under a symbol of its own, so any number of
 * slots add one property to a request. A `WeakMap` is used only for an object
 * that takes no new property (frozen, sealed, or a Proxy that refuses). A
 * `WeakMap` entry per request costs the garbage collector about 3 µs per
 * request (the ephemeron bookkeeping of a table whose keys die young); a
 * property costs a tenth of that.
 *
 * @param description - The slot symbol's description, for debugging.
 *
 * @example
 * ```ts
 * const pending = objectSlot<PendingCommit>("my-adapter.pending");
 * pending.set(res, { started: false });
 * pending.get(res)?.started; // false
 * ```
 */
export function objectSlot<T>(description: string): ObjectSlot<T> {
  return slotUnder(Symbol(description));
}

/**
 * The {@link ObjectSlot} under `slot`: {@link objectSlot}'s, or, with a
 * registered symbol (`Symbol.for`), one that every copy of this module in the
 * process shares.
 */
export function slotUnder<T>(slot: symbol): ObjectSlot<T> {
  const unslotted = new WeakMap<object, T>();
  let anyUnslotted = false;
  return {
    get(target) {
      const slots = ownSlots(target);
      if (slots !== undefined) return slots[slot] as T | undefined;
      return anyUnslotted ? unslotted.get(target) : undefined;
    },
    set(target, value) {
      const slots = ownSlots(target) ?? (value === undefined ? undefined : attachSlots(target));
      if (slots !== undefined) {
        slots[slot] = value;
        return;
      }
      if (value === undefined) {
        unslotted.delete(target);
        return;
      }
      anyUnslotted = true;
      unslotted.set(target, value);
    },
  };
}

/** The holder on `target` itself (never one it inherits), if it has one. */
function ownSlots(target: object): Slots | undefined {
  const slots = (target as { [SLOTS]?: Slots })[SLOTS];
  return slots !== undefined && Object.hasOwn(target, SLOTS) ? slots : undefined;
}

/** Puts an empty holder on `target`; `undefined` when the object takes no new property. */
function attachSlots(target: object): Slots | undefined {
  const slots: Slots = {};
  try {
    return Reflect.defineProperty(target, SLOTS, { value: slots }) ? slots : undefined;
  } catch {
    return undefined; // a Proxy whose trap throws
  }
}
