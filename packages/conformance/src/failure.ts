import { ErrorCode, isSessionError, type SessionStore } from "@sessionkit/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Fault, FaultProxy } from "./fault-proxy.js";
import { makeRecord, randomKey } from "./suite.js";

/** Options of {@link failureGroup}. */
export interface FailureOptions<S extends SessionStore = SessionStore> {
  /** The real server the store normally talks to (the proxy forwards there). */
  target(): Promise<{ readonly host: string; readonly port: number }>;
  /**
   * Creates a fresh, isolated store that connects to `endpoint` (the fault
   * proxy) with every operation bounded by `timeoutMs`.
   */
  createStore(
    endpoint: { readonly host: string; readonly port: number },
    timeoutMs: number,
  ): S | Promise<S>;
  /** Called after each test. Default: `store.close?.()`. */
  teardown?(store: S): void | Promise<void>;
  /** The operation timeout given to `createStore`, in ms. @default 1000 */
  readonly timeoutMs?: number;
  /** How much longer than `timeoutMs` a failure may take, in ms. @default 1500 */
  readonly marginMs?: number;
  /** How long the store may take to work again after a fault clears, in ms. @default 15000 */
  readonly recoveryMs?: number;
}

const FAILURE_CODES: readonly string[] = [ErrorCode.STORE_UNAVAILABLE, ErrorCode.STORE_TIMEOUT];

/**
 * The `failure` group (checklist A18, A30): a {@link FaultProxy} sits between a
 * network store and its server and refuses connections, black-holes traffic,
 * cuts connections mid-command or delays them. Every operation must fail with
 * `STORE_UNAVAILABLE` or `STORE_TIMEOUT` within the store's timeout plus a
 * margin, never with an unhandled rejection or uncaught exception; once the
 * fault clears the store must work again by itself; and no command refused or
 * cut during a fault may be replayed later to resurrect or duplicate a session.
 *
 * @example
 * ```ts
 * failureGroup({
 *   target: async () => ({ host: "127.0.0.1", port: 6379 }),
 *   createStore: ({ host, port }, timeoutMs) =>
 *     createRedisStore({ url: `redis://${host}:${port}`, prefix: uniqueName(), commandTimeoutMs: timeoutMs }),
 * });
 * ```
 */
export function failureGroup<S extends SessionStore>(options: FailureOptions<S>): void {
  const timeoutMs = options.timeoutMs ?? 1_000;
  const marginMs = options.marginMs ?? 1_500;
  const recoveryMs = options.recoveryMs ?? 15_000;

  describe("failure", () => {
    let proxy: FaultProxy;
    let store: S;
    const unexpected: unknown[] = [];
    const trap = (error: unknown): void => {
      unexpected.push(error);
    };

    beforeEach(async () => {
      unexpected.length = 0;
      process.on("unhandledRejection", trap);
      process.on("uncaughtException", trap);
      proxy = await FaultProxy.start(await options.target());
      store = await options.createStore({ host: "127.0.0.1", port: proxy.port }, timeoutMs);
    });

    afterEach(async () => {
      await proxy.inject("none");
      try {
        if (options.teardown) await options.teardown(store);
        else await store.close?.();
      } finally {
        await proxy.close();
        process.off("unhandledRejection", trap);
        process.off("uncaughtException", trap);
      }
      expect(unexpected, "no unhandled rejection or uncaught exception").toEqual([]);
    });

    /** Runs `operation` and checks it fails with a retryable store code in time. */
    const expectTypedFailure = async (operation: () => Promise<unknown>): Promise<void> => {
      const started = performance.now();
      const outcome = await operation().then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      const elapsed = performance.now() - started;
      expect(outcome.ok, "the operation should fail during the fault").toBe(false);
      const error = (outcome as { error: unknown }).error;
      expect(isSessionError(error), `a SessionError, got ${String(error)}`).toBe(true);
      expect(FAILURE_CODES).toContain((error as { code: string }).code);
      expect(elapsed).toBeLessThanOrEqual(timeoutMs + marginMs);
    };

    /** Retries `get` until it succeeds (the store recovering by itself); every failure meanwhile must be typed. */
    const recovered = async (key: string): Promise<Awaited<ReturnType<S["get"]>>> => {
      const deadline = performance.now() + recoveryMs;
      for (;;) {
        try {
          return (await store.get(key)) as Awaited<ReturnType<S["get"]>>;
        } catch (error) {
          expect(isSessionError(error) && FAILURE_CODES.includes(error.code)).toBe(true);
          if (performance.now() > deadline)
            throw new Error(`the store did not recover within ${recoveryMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };

    const faults: readonly Fault[] = ["refuse", "black-hole", "cut"];
    for (const fault of faults) {
      it(`under "${fault}", reads and writes fail typed within the timeout, then the store recovers by itself`, async () => {
        const key = randomKey();
        const record = makeRecord();
        expect(await store.set(key, record, { ifVersion: 0 })).toBe(true);
        await proxy.inject(fault);
        await expectTypedFailure(() => store.get(key));
        await expectTypedFailure(() => store.set(key, { ...record, version: 2 }, { ifVersion: 1 }));
        await expectTypedFailure(() => store.destroy(randomKey()));
        await proxy.inject("none");
        const after = await recovered(key);
        // A write that failed on the client may still have reached the server (cut
        // after sending, or held and delivered late as TCP does): it lands whole or
        // not at all, and never twice.
        expect([1, 2]).toContain(after?.version);
        expect(after?.payload).toBe(record.payload);
      });

      it(`a create refused or cut under "${fault}" is never replayed after recovery (A18)`, async () => {
        const probe = randomKey();
        expect(await store.set(probe, makeRecord(), { ifVersion: 0 })).toBe(true);
        await proxy.inject(fault);
        const key = randomKey();
        await expectTypedFailure(() => store.set(key, makeRecord(), { ifVersion: 0 }));
        await proxy.inject("none");
        await recovered(probe);
        // If the failed create had been queued for a retry, it could land after this destroy.
        await store.destroy(key);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(await store.get(key)).toBeNull();
      });
    }

    it("a delay below the timeout is only slower; one above it fails with STORE_TIMEOUT", async () => {
      const key = randomKey();
      const record = makeRecord();
      expect(await store.set(key, record, { ifVersion: 0 })).toBe(true);
      await proxy.inject("delay", Math.floor(timeoutMs / 5));
      expect((await store.get(key))?.payload).toBe(record.payload);
      await proxy.inject("delay", timeoutMs * 3);
      await expectTypedFailure(() => store.get(key));
      await proxy.inject("none");
      expect((await recovered(key))?.payload).toBe(record.payload);
    });
  });
}
