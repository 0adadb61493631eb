/** One watched store call. */
interface Watch {
  /** Its deadline, on `performance.now()`'s clock. */
  readonly at: number;
  settled: boolean;
  readonly expire: () => void;
}

/**
 * The deadlines of one manager's store calls. Every call gets the same
 * timeout, so deadlines fall in the order calls start: one queue and one timer
 * for its oldest unsettled call replace a timer per call on the hot path.
 * While no call is pending the timer does not keep the process alive.
 */
export class Deadlines {
  readonly #timeoutMs: number;
  #queue: Watch[] = [];
  #head = 0;
  #pending = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Watches one call: `expire` runs once `timeoutMs` have passed, unless the
   * returned `settle` ran first. Either runs at most once.
   */
  watch(expire: () => void): () => void {
    const watch: Watch = { at: performance.now() + this.#timeoutMs, settled: false, expire };
    this.#queue.push(watch);
    this.#pending++;
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
    else if (this.#pending === 1) this.#timer.ref();
    return () => {
      if (watch.settled) return;
      watch.settled = true;
      this.#pending--;
      this.#dropSettledHead();
      if (this.#pending === 0) this.#timer?.unref();
    };
  }

  #dropSettledHead(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && (queue[this.#head] as Watch).settled) this.#head++;
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#fire(), Math.max(1, Math.ceil(ms)));
    if (this.#pending === 0) this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (
      let watch = this.#queue[this.#head];
      watch !== undefined;
      watch = this.#queue[this.#head]
    ) {
      if (!watch.settled) {
        if (watch.at > now) break;
        watch.settled = true;
        this.#pending--;
        watch.expire();
      }
      this.#head++;
    }
    this.#dropSettledHead();
    const next = this.#queue[this.#head];
    if (next !== undefined) this.#arm(next.at - now);
  }
}

/**
 * Where `defineStore` records a store's own deadline (`operationTimeoutMs`,
 * `false` for an in-process backend), so a manager whose `storeTimeoutMs` is
 * no shorter does not put a second deadline on each call: the store rejects
 * with `STORE_TIMEOUT` first by itself, and an in-process backend has nothing
 * to wait for. A registered symbol, so two copies of core agree.
 */
const OWN_DEADLINE = Symbol.for("sessionkit.store.ownDeadline");

/** Records `store`'s own deadline (not enumerable, not writable). */
export function markOwnDeadline(store: object, timeoutMs: number | false): void {
  Object.defineProperty(store, OWN_DEADLINE, { value: timeoutMs });
}

/**
 * Whether a manager with `storeTimeoutMs` must bound `store`'s calls itself:
 * always for a store `defineStore` did not make, and for one whose own
 * deadline is longer.
 */
export function needsDeadline(store: object, storeTimeoutMs: number): boolean {
  const own = (store as { [OWN_DEADLINE]?: unknown })[OWN_DEADLINE];
  return !(own === false || (typeof own === "number" && own <= storeTimeoutMs));
}
