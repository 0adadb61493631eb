/**
 * What every group shares: the rule-naming `expect`, the per-test store and
 * clock, skip bookkeeping and the capability / hook / clock gates. Internal:
 * not exported from the package.
 */
import type { SessionRecord, SessionStore, StoreCapabilities } from "@sessionkit/core/store";
import { afterAll, afterEach, beforeEach, type TestContext, expect as vitestExpect } from "vitest";
import type {
  ConformanceClock,
  ConformanceContext,
  ConformanceOptions,
  StoreInspector,
} from "./options.js";
import { makeRecord } from "./records.js";

/**
 * Every assertion of the suite names the rule it checks: the test's own name,
 * which states the rule ("set(key, record, { ifVersion: 0 }) never overwrites a
 * live record"), unless the assertion passes a more precise message. A failure
 * then reads "<rule>: expected true to be false" instead of the bare matcher.
 */
export const expect = Object.assign((actual: unknown, message?: string) => {
  const name = vitestExpect.getState().currentTestName ?? "";
  const rule = name.slice(name.lastIndexOf(" > ") + 3);
  return vitestExpect(actual, message ?? `contract rule broken: ${rule}`);
}, vitestExpect) as typeof vitestExpect;

/**
 * Lifetime of records a test lets expire, in ms. Under `clock: "real"` the
 * suite sleeps this plus the grace: long enough that a write and a read back
 * always fit inside it on a loaded machine (a Sentinel round trip on two busy
 * cores), short enough to keep the suite fast. Under `clock: "suite"` the
 * clock jumps by exactly this much.
 */
export const SHORT_TTL_MS = 500;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Why tests were skipped, per group: printed once after the group, so the
 * reasons show with vitest's default reporter too (it prints only a count).
 */
const skipReasons = new Map<string, number>();

/** Skips the running test, recording why. */
export function skipWith(ctx: TestContext, reason: string): void {
  skipReasons.set(reason, (skipReasons.get(reason) ?? 0) + 1);
  ctx.skip(reason);
}

/** One test's store, clock and record factory, as {@link useStore} returns them. */
export interface TestStore<S extends SessionStore> {
  /** The store of the running test. */
  store(): S;
  /** The suite clock of the running test, epoch ms (the real time under `clock: "real"`). */
  now(): number;
  /**
   * Lets `ms` pass: the suite clock jumps by exactly `ms` under `clock: "suite"`;
   * under `clock: "real"` the test sleeps `ms` plus `expiryGraceMs`.
   */
  advance(ms: number): Promise<void>;
  /** A valid record created now (suite clock) and expiring `ttlMs` later. */
  record(overrides?: Partial<SessionRecord>, ttlMs?: number): SessionRecord;
  /** A second fresh store on the same clock, torn down after the test. */
  another(): Promise<S>;
  /** Whose clock the store follows. */
  readonly clock: ConformanceClock;
}

/** Tears a store down the way the registration asks (default: `close()`). */
export async function disposeStore<S extends SessionStore>(
  options: ConformanceOptions<S>,
  store: S,
): Promise<void> {
  if (options.teardown) await options.teardown(store);
  else await store.close?.();
}

/**
 * Registers a per-test store and clock with set-up and tear-down (call it at
 * the top of a group's `describe`); the returned functions read the running
 * test's.
 */
export function useStore<S extends SessionStore>(options: ConformanceOptions<S>): TestStore<S> {
  const clock = options.clock ?? "real";
  const graceMs = options.expiryGraceMs ?? 60;
  let stores: S[] = [];
  // The suite clock of the running test: it stands still under "suite".
  let time = 0;
  const now = clock === "suite" ? () => time : () => Date.now();
  const context: ConformanceContext = Object.freeze({ now });

  afterAll(() => {
    if (skipReasons.size === 0) return;
    const lines = [...skipReasons].map(([reason, count]) => `  - ${count} skipped: ${reason}`);
    skipReasons.clear();
    console.warn(`conformance: tests skipped, and why:\n${lines.join("\n")}`);
  });
  beforeEach(async () => {
    time = Date.now();
    stores = [await options.createStore(context)];
  });
  afterEach(async () => {
    const used = stores;
    stores = [];
    for (const store of used) await disposeStore(options, store);
  });

  return {
    clock,
    store() {
      const store = stores[0];
      if (store === undefined) throw new Error("conformance: store used outside a test");
      return store;
    },
    now,
    async advance(ms) {
      if (clock === "suite") time += ms;
      else await sleep(ms + graceMs);
    },
    record: (overrides = {}, ttlMs = 60_000) => makeRecord(overrides, ttlMs, now()),
    async another() {
      const store = await options.createStore(context);
      stores.push(store);
      return store;
    },
  };
}

/** Skips the test unless the store declares `capability`. */
export function requireCapability(
  ctx: TestContext,
  store: SessionStore,
  capability: keyof StoreCapabilities,
): void {
  if (!store.capabilities[capability]) {
    skipWith(ctx, `store "${store.name}" does not declare the "${capability}" capability`);
  }
}

/**
 * Returns the inspection hook, or skips the test when it was not given. Call
 * it before the test's first assertion, so a test is either run whole or
 * skipped, never half-run.
 */
export function requireHook<S extends SessionStore, K extends keyof StoreInspector<S>>(
  ctx: TestContext,
  inspect: StoreInspector<S> | undefined,
  hook: K,
  store?: SessionStore,
): NonNullable<StoreInspector<S>[K]> {
  const fn = inspect?.[hook];
  if (fn === undefined && hook === "ttlMs" && store?.capabilities.gc === true) {
    skipWith(
      ctx,
      `store "${store.name}" keeps expiry in its data (it declares gc): no native TTL to check`,
    );
  }
  if (fn === undefined) {
    skipWith(ctx, `no inspect.${String(hook)} hook was given to the conformance suite`);
  }
  return fn as NonNullable<StoreInspector<S>[K]>;
}

/** Skips a check that needs time to stand still unless the store follows the suite clock. */
export function requireSuiteClock(ctx: TestContext, test: TestStore<SessionStore>): void {
  if (test.clock !== "suite") {
    skipWith(
      ctx,
      `store "${test.store().name}" follows the real clock (clock: "real"): exact expiry instants need clock: "suite"`,
    );
  }
}

/** Compares records field by field, treating an absent `userId` and `undefined` alike. */
export function expectRecord(actual: SessionRecord | null, expected: SessionRecord): void {
  expect(actual, "get(key) must return the record last written (it returned null)").not.toBeNull();
  const a = actual as SessionRecord;
  expect({
    payload: a.payload,
    expiresAt: a.expiresAt,
    createdAt: a.createdAt,
    version: a.version,
    userId: a.userId ?? null,
  }).toEqual({
    payload: expected.payload,
    expiresAt: expected.expiresAt,
    createdAt: expected.createdAt,
    version: expected.version,
    userId: expected.userId ?? null,
  });
}

/**
 * Calls a store method that must answer with a promise: a synchronous throw
 * (which escapes a caller's `.catch()`) fails the test, naming the call.
 */
export function called<T>(what: string, call: () => Promise<T> | undefined): Promise<T> {
  let answer: Promise<T> | undefined;
  expect(() => {
    answer = call();
  }, `${what} must return a rejected promise, never throw synchronously`).not.toThrow();
  expect(answer, `${what} must return a promise`).toBeInstanceOf(Promise);
  return answer as Promise<T>;
}

/** A short rendering of what a call resolved with, for failure messages. */
function describeValue(value: unknown): string {
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 80)}…` : text;
  } catch {
    return String(value);
  }
}

/**
 * What `call` rejects with; a resolution becomes a rejection that says so, so
 * a failed `.rejects` assertion still names the call (vitest's own "promise
 * resolved instead of rejecting" drops the assertion's message).
 */
function rejectionOf(what: string, call: () => Promise<unknown> | undefined): Promise<unknown> {
  return called(what, call).then((value) =>
    Promise.reject(new Error(`${what} resolved with ${describeValue(value)} instead of rejecting`)),
  );
}

/** `call` rejects (never throws) with a `TypeError`. */
export async function expectTypeError(
  what: string,
  call: () => Promise<unknown> | undefined,
): Promise<void> {
  await expect(
    rejectionOf(what, call),
    `${what} must reject with a TypeError`,
  ).rejects.toBeInstanceOf(TypeError);
}

/** `call` rejects (never throws) with a `SessionError` of `code`. */
export async function expectSessionError(
  what: string,
  call: () => Promise<unknown> | undefined,
  code: string,
): Promise<void> {
  await expect(
    rejectionOf(what, call),
    `${what} must reject with a SessionError of code ${code}`,
  ).rejects.toMatchObject({ name: "SessionError", code });
}
