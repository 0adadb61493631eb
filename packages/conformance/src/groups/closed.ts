import type { SessionStore, StoreCapabilities } from "@sessionkit/core/store";
import { describe, it } from "vitest";
import { expect, expectSessionError, requireCapability, useStore } from "../harness.js";
import type { ConformanceGroup } from "../options.js";
import { makeRecord, randomKey } from "../records.js";

/** One valid call of each optional method, and the capability that declares it. */
const OPTIONAL_CALLS: ReadonlyArray<{
  readonly call: string;
  readonly capability: keyof StoreCapabilities;
  readonly run: (store: SessionStore, now: number) => Promise<unknown> | undefined;
}> = [
  {
    call: "touch(key, expiresAt)",
    capability: "touch",
    run: (store, now) => store.touch?.(randomKey(), now + 60_000),
  },
  {
    call: "rename(old, new, record)",
    capability: "rename",
    run: (store, now) => store.rename?.(randomKey(), randomKey(), makeRecord({}, 60_000, now)),
  },
  { call: "listByUser(userId)", capability: "userIndex", run: (store) => store.listByUser?.("u") },
  {
    call: "destroyByUser(userId)",
    capability: "userIndex",
    run: (store) => store.destroyByUser?.("u"),
  },
  { call: "count()", capability: "count", run: (store) => store.count?.() },
  { call: "clear()", capability: "clear", run: (store) => store.clear?.() },
  { call: "keys({ limit: 10 })", capability: "keys", run: (store) => store.keys?.({ limit: 10 }) },
  { call: "gc()", capability: "gc", run: (store) => store.gc?.() },
];

/**
 * The `closed` group: after `close()`, every method rejects with
 * `STORE_UNAVAILABLE` (never works on, never hangs), and `close()` may be
 * called again. The store's teardown then receives the closed store.
 *
 * @example
 * ```ts
 * closedGroup({ createStore: () => createMyStore() });
 * ```
 */
export const closedGroup: ConformanceGroup = (options) => {
  describe("closed", () => {
    const { store, record, now } = useStore(options);

    it("after close(), get, set and destroy reject with STORE_UNAVAILABLE", async (ctx) => {
      requireCapability(ctx, store(), "close");
      const key = randomKey();
      const created = record();
      expect(await store().set(key, created, { ifVersion: 0 })).toBe(true);
      await store().close?.();
      const closed = store();
      await expectSessionError(
        "get(key) after close()",
        () => closed.get(key),
        "STORE_UNAVAILABLE",
      );
      await expectSessionError(
        "set(key, record) after close()",
        () => closed.set(randomKey(), record(), { ifVersion: 0 }),
        "STORE_UNAVAILABLE",
      );
      await expectSessionError(
        "set(key, record, { ifVersion: 1 }) after close()",
        () => closed.set(key, { ...created, version: 2 }, { ifVersion: 1 }),
        "STORE_UNAVAILABLE",
      );
      await expectSessionError(
        "destroy(key) after close()",
        () => closed.destroy(key),
        "STORE_UNAVAILABLE",
      );
    });

    for (const { call, capability, run } of OPTIONAL_CALLS) {
      it(`after close(), ${call} rejects with STORE_UNAVAILABLE`, async (ctx) => {
        requireCapability(ctx, store(), "close");
        requireCapability(ctx, store(), capability);
        await store().close?.();
        await expectSessionError(
          `${call} after close()`,
          () => run(store(), now()),
          "STORE_UNAVAILABLE",
        );
      });
    }

    it("close() called a second time resolves", async (ctx) => {
      requireCapability(ctx, store(), "close");
      await store().close?.();
      await expect(store().close?.(), "a second close() must resolve").resolves.toBeUndefined();
    });
  });
};
