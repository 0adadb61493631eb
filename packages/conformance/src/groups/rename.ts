import { describe, it } from "vitest";
import { expect, expectRecord, requireCapability, requireHook, useStore } from "../harness.js";
import type { ConformanceGroup } from "../options.js";
import { randomKey } from "../records.js";

/**
 * The `rename` group: the atomic move behind `regenerate()`. (Renaming onto a
 * live key is an argument error: see the `arguments` group.)
 */
export const renameGroup: ConformanceGroup = (options) => {
  describe("rename", () => {
    const { store, record } = useStore(options);

    it("rename(old, new, record) moves the session: old is gone, new holds record", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const oldKey = randomKey();
      const newKey = randomKey();
      const created = record({ userId: "u1" });
      await store().set(oldKey, created, { ifVersion: 0 });
      const moved = { ...created, payload: '"kept"', version: 2 };
      expect(await store().rename?.(oldKey, newKey, moved, { ifVersion: 1 })).toBe(true);
      expect(await store().get(oldKey)).toBeNull();
      expectRecord(await store().get(newKey), moved);
    });

    it("rename(old, new, record) removes old physically (inspect.exists)", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const exists = requireHook(ctx, options.inspect, "exists");
      const oldKey = randomKey();
      const newKey = randomKey();
      const created = record();
      await store().set(oldKey, created, { ifVersion: 0 });
      expect(await store().rename?.(oldKey, newKey, created)).toBe(true);
      expect(await exists(store(), oldKey)).toBe(false);
      expect(await exists(store(), newKey)).toBe(true);
    });

    it("rename(old, …) returns false and creates nothing when old is missing", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const newKey = randomKey();
      expect(await store().rename?.(randomKey(), newKey, record())).toBe(false);
      expect(await store().get(newKey)).toBeNull();
    });

    it("rename(old, …, { ifVersion }) returns false and changes nothing at another version", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const oldKey = randomKey();
      const newKey = randomKey();
      const created = record({ version: 2 });
      await store().set(oldKey, created, { ifVersion: 0 });
      expect(await store().rename?.(oldKey, newKey, created, { ifVersion: 1 })).toBe(false);
      expectRecord(await store().get(oldKey), created);
      expect(await store().get(newKey)).toBeNull();
    });

    it("after rename(old, new), writes to old fail", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const oldKey = randomKey();
      const created = record();
      await store().set(oldKey, created, { ifVersion: 0 });
      expect(await store().rename?.(oldKey, randomKey(), created)).toBe(true);
      expect(await store().set(oldKey, { ...created, version: 2 }, { ifVersion: 1 })).toBe(false);
      expect(await store().get(oldKey)).toBeNull();
    });

    it("of 10 concurrent renames of one key exactly one succeeds", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const oldKey = randomKey();
      const created = record();
      await store().set(oldKey, created, { ifVersion: 0 });
      const targets = Array.from({ length: 10 }, randomKey);
      const results = await Promise.all(
        targets.map((key) => store().rename?.(oldKey, key, created, { ifVersion: 1 })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const live = await Promise.all(targets.map((key) => store().get(key)));
      expect(live.filter((r) => r !== null)).toHaveLength(1);
    });

    it("rename(old, new) sets the native TTL of new (inspect.ttlMs)", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const ttlMs = requireHook(ctx, options.inspect, "ttlMs", store());
      const oldKey = randomKey();
      const newKey = randomKey();
      const created = record({}, 40_000);
      await store().set(oldKey, created, { ifVersion: 0 });
      await store().rename?.(oldKey, newKey, created);
      expect((await ttlMs(store(), newKey)) as number).toBeGreaterThan(35_000);
    });
  });
};
