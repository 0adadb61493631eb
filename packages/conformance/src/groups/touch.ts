import { describe, it } from "vitest";
import {
  expect,
  expectRecord,
  requireCapability,
  requireHook,
  SHORT_TTL_MS,
  useStore,
} from "../harness.js";
import type { ConformanceGroup } from "../options.js";
import { randomKey } from "../records.js";

/** The `touch` group: extends, never shortens, never recreates, never changes data. */
export const touchGroup: ConformanceGroup = (options) => {
  describe("touch", () => {
    const { store, record, now, advance } = useStore(options);

    it("touch(key, expiresAt) extends expiresAt without changing data or version", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      const created = record({ userId: "u1" }, 10_000);
      await store().set(key, created, { ifVersion: 0 });
      const later = created.expiresAt + 50_000;
      expect(await store().touch?.(key, later)).toBe(true);
      expectRecord(await store().get(key), { ...created, expiresAt: later });
    });

    it("touch(key, expiresAt) never shortens, and returns true for the live record", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      const created = record({}, 60_000);
      await store().set(key, created, { ifVersion: 0 });
      expect(await store().touch?.(key, created.expiresAt - 30_000)).toBe(true);
      expect((await store().get(key))?.expiresAt).toBe(created.expiresAt);
    });

    it("touch(key, expiresAt) keeps the record alive past its old expiry", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      const created = record({}, SHORT_TTL_MS);
      await store().set(key, created, { ifVersion: 0 });
      expect(await store().touch?.(key, now() + 60_000)).toBe(true);
      await advance(SHORT_TTL_MS);
      expect((await store().get(key))?.payload).toBe(created.payload);
    });

    it("touch(key) returns false and creates nothing for an unknown or destroyed key", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      expect(await store().touch?.(key, now() + 60_000)).toBe(false);
      expect(await store().get(key)).toBeNull();
      await store().set(key, record(), { ifVersion: 0 });
      await store().destroy(key);
      expect(await store().touch?.(key, now() + 60_000)).toBe(false);
      expect(await store().get(key)).toBeNull();
    });

    it("touch(key) of a destroyed key stores nothing physically (inspect.exists)", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const exists = requireHook(ctx, options.inspect, "exists");
      const key = randomKey();
      await store().set(key, record(), { ifVersion: 0 });
      await store().destroy(key);
      await store().touch?.(key, now() + 60_000);
      expect(await exists(store(), key)).toBe(false);
    });

    it("touch(key) does not revive an expired record", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      await store().set(key, record({}, SHORT_TTL_MS), { ifVersion: 0 });
      await advance(SHORT_TTL_MS);
      expect(await store().touch?.(key, now() + 60_000)).toBe(false);
      expect(await store().get(key)).toBeNull();
    });

    it("touch(key, expiresAt, { ifVersion }) returns false at another version", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      const created = record({ version: 2 });
      await store().set(key, created, { ifVersion: 0 });
      expect(await store().touch?.(key, created.expiresAt + 10_000, { ifVersion: 1 })).toBe(false);
      expect((await store().get(key))?.expiresAt).toBe(created.expiresAt);
      expect(await store().touch?.(key, created.expiresAt + 10_000, { ifVersion: 2 })).toBe(true);
      expect((await store().get(key))?.expiresAt).toBe(created.expiresAt + 10_000);
    });

    it("touch(key) also extends the native TTL (inspect.ttlMs)", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const ttlMs = requireHook(ctx, options.inspect, "ttlMs", store());
      const key = randomKey();
      await store().set(key, record({}, 10_000), { ifVersion: 0 });
      await store().touch?.(key, now() + 120_000);
      expect((await ttlMs(store(), key)) as number).toBeGreaterThan(110_000);
    });
  });
};
