import { describe, it } from "vitest";
import { expect, requireCapability, requireHook, SHORT_TTL_MS, useStore } from "../harness.js";
import type { ConformanceGroup } from "../options.js";
import { randomKey } from "../records.js";

/** The `gc` group: `gc()` for stores without native expiry. */
export const gcGroup: ConformanceGroup = (options) => {
  describe("gc", () => {
    const { store, record, advance } = useStore(options);

    /** Five records that expire after SHORT_TTL_MS, one that lives on; returns their keys. */
    const fill = async (): Promise<{ expired: string[]; live: string }> => {
      const expired = Array.from({ length: 5 }, randomKey);
      const live = randomKey();
      for (const key of expired) await store().set(key, record({}, SHORT_TTL_MS), { ifVersion: 0 });
      await store().set(live, record(), { ifVersion: 0 });
      await advance(SHORT_TTL_MS);
      return { expired, live };
    };

    it("gc() resolves to 0 when nothing has expired", async (ctx) => {
      requireCapability(ctx, store(), "gc");
      await store().set(randomKey(), record(), { ifVersion: 0 });
      expect(await store().gc?.()).toBe(0);
    });

    it("gc() deletes exactly the expired records, resolves to their number, and keeps live ones", async (ctx) => {
      requireCapability(ctx, store(), "gc");
      const { live } = await fill();
      // The store is fresh and isolated: exactly these five can be pruned.
      expect(await store().gc?.(), "gc() must resolve to the number it deleted").toBe(5);
      expect(await store().get(live)).not.toBeNull();
      expect(await store().gc?.(), "a second gc() has nothing left to delete").toBe(0);
    });

    it("gc() removes expired records physically (inspect.exists)", async (ctx) => {
      requireCapability(ctx, store(), "gc");
      const exists = requireHook(ctx, options.inspect, "exists");
      const { expired, live } = await fill();
      for (const key of expired) {
        expect(
          await exists(store(), key),
          "the expired record must still be stored before gc() (turn any gc timer off for the suite)",
        ).toBe(true);
      }
      await store().gc?.();
      for (const key of expired) expect(await exists(store(), key)).toBe(false);
      expect(await exists(store(), live)).toBe(true);
    });
  });
};
