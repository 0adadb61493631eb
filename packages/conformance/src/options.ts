import type { SessionStore } from "@sessionkit/core/store";

/**
 * Raw inspection hooks: they read what the backend physically holds, bypassing
 * the store's own logic, so the suite can check a TTL really set in Redis or a
 * row really gone in Postgres. Each check that needs a hook is a test of its
 * own, skipped with the reason when the hook is absent.
 */
export interface StoreInspector<S extends SessionStore = SessionStore> {
  /** Whether anything at all is stored under `key` (expired or not). */
  exists?(store: S, key: string): Promise<boolean>;
  /**
   * The remaining native time-to-live of `key` in ms, as the backend counts it
   * (Redis `PTTL`), `null` if the key has none. Only for stores with native expiry.
   */
  ttlMs?(store: S, key: string): Promise<number | null>;
  /** Raw `expiresAt` as stored (epoch ms), for stores that keep it in a column. */
  storedExpiresAt?(store: S, key: string): Promise<number | null>;
}

/**
 * What the suite hands to {@link ConformanceOptions.createStore}: the test's
 * clock. Pass `now` to the store (most stores take a `now` option) and declare
 * `clock: "suite"`, and the expiry checks become exact and instant.
 */
export interface ConformanceContext {
  /**
   * The suite's clock, in epoch ms: it starts at `Date.now()` when the test's
   * store is created and, under `clock: "suite"`, stands still until the suite
   * advances it. Under `clock: "real"` it is `Date.now`.
   */
  readonly now: () => number;
}

/**
 * Whose clock decides when the store's records expire:
 * - `"suite"`: the store reads the time from `context.now` at each operation,
 *   so the suite moves time forward instead of waiting;
 * - `"real"`: the store (or its server, as Redis with native expiry) reads the
 *   real time, so the suite sleeps past each expiry.
 */
export type ConformanceClock = "suite" | "real";

/** Options of {@link describeStoreConformance} and of each group. */
export interface ConformanceOptions<S extends SessionStore = SessionStore> {
  /**
   * Returns a fresh store, isolated from every other store it returned (own
   * prefix, table or file). `context.now` is the suite's clock; a store that
   * follows it is registered with `clock: "suite"`. Ignoring the argument is
   * fine with `clock: "real"`.
   */
  createStore(context: ConformanceContext): S | Promise<S>;
  /**
   * Called after each test with the store it used. It may receive a store the
   * test already closed (the `closed` group): `close()` may be called again,
   * any other method rejects. Default: `store.close?.()`.
   */
  teardown?(store: S): void | Promise<void>;
  /** Raw inspection hooks; each check that needs one is skipped, with the reason, when absent. */
  inspect?: StoreInspector<S>;
  /**
   * Whether the store's expiry follows `context.now` (`"suite"`: exact and
   * instant expiry checks) or the real time (`"real"`: the suite sleeps).
   * @default "real"
   */
  clock?: ConformanceClock;
  /**
   * How long past a record's `expiresAt` to wait before checking it is gone,
   * in ms, under `clock: "real"`: stores whose expiry runs on the server's own
   * timer may need a small margin. Unused under `clock: "suite"`.
   * @default 60
   */
  expiryGraceMs?: number;
}

/** A conformance group: registers vitest tests when called inside a test file. */
export type ConformanceGroup = <S extends SessionStore>(options: ConformanceOptions<S>) => void;
