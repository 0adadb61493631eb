import { describe, it } from "vitest";
import {
  expect,
  expectRecord,
  requireHook,
  requireSuiteClock,
  SHORT_TTL_MS,
  useStore,
} from "../harness.js";
import type { ConformanceGroup } from "../options.js";
import { randomKey } from "../records.js";

/**
 * The `expiry` group: a record at or past its `expiresAt` is never returned,
 * never updated, and not kept. Under `clock: "suite"` the instants are exact.
 */
export const expiryGroup: ConformanceGroup = (options) => {
  describe("expiry", () => {
    const test = useStore(options);
    const { store, record, now, advance } = test;

    it("get(key) returns null once expiresAt has passed", async () => {
      const key = randomKey();
      await store().set(key, record({}, SHORT_TTL_MS), { ifVersion: 0 });
      expect(await store().get(key)).not.toBeNull();
      await advance(SHORT_TTL_MS);
      expect(await store().get(key)).toBeNull();
    });

    it("get(key) returns the record until 1 ms before expiresAt, and null at expiresAt (A20)", async (ctx) => {
      requireSuiteClock(ctx, test);
      const key = randomKey();
      const created = record({}, 1_000);
      await store().set(key, created, { ifVersion: 0 });
      await advance(999);
      expectRecord(await store().get(key), created);
      await advance(1);
      expect(now()).toBe(created.expiresAt);
      expect(await store().get(key), "a record at its expiresAt must not be returned").toBeNull();
    });

    it("set(key, record) with expiresAt in the past stores nothing and returns true", async () => {
      const key = randomKey();
      expect(await store().set(key, record({}, -1_000), { ifVersion: 0 })).toBe(true);
      expect(await store().get(key)).toBeNull();
    });

    it("set(key, record) with expiresAt in the past stores nothing physically (inspect.exists)", async (ctx) => {
      const exists = requireHook(ctx, options.inspect, "exists");
      const key = randomKey();
      await store().set(key, record({}, -1_000), { ifVersion: 0 });
      expect(await exists(store(), key)).toBe(false);
    });

    it("set(key, record) with expiresAt equal to now stores nothing", async (ctx) => {
      requireSuiteClock(ctx, test);
      const key = randomKey();
      expect(await store().set(key, record({}, 0), { ifVersion: 0 })).toBe(true);
      expect(await store().get(key)).toBeNull();
      expect(
        await store().set(key, record({ payload: '"again"' }), { ifVersion: 0 }),
        "nothing may be left under the key: a create must succeed",
      ).toBe(true);
    });

    it("set(key, record) with a past expiresAt deletes the live record it replaces", async () => {
      const key = randomKey();
      const created = record();
      await store().set(key, created, { ifVersion: 0 });
      expect(
        await store().set(key, { ...created, version: 2, expiresAt: now() - 1 }, { ifVersion: 1 }),
      ).toBe(true);
      expect(await store().get(key)).toBeNull();
    });

    it("set(key, record, { ifVersion: n }) does not update an expired record", async () => {
      const key = randomKey();
      const created = record({}, SHORT_TTL_MS);
      await store().set(key, created, { ifVersion: 0 });
      await advance(SHORT_TTL_MS);
      const later = { ...created, version: 2, expiresAt: now() + 60_000 };
      expect(await store().set(key, later, { ifVersion: 1 })).toBe(false);
      expect(await store().get(key)).toBeNull();
    });

    it("set(key, record, { ifVersion: 0 }) treats an expired record as absent", async () => {
      const key = randomKey();
      await store().set(key, record({}, SHORT_TTL_MS), { ifVersion: 0 });
      await advance(SHORT_TTL_MS);
      const fresh = record({ payload: '"fresh"' });
      expect(await store().set(key, fresh, { ifVersion: 0 })).toBe(true);
      expectRecord(await store().get(key), fresh);
    });

    it("every write sets a native TTL matching expiresAt (inspect.ttlMs)", async (ctx) => {
      const ttlMs = requireHook(ctx, options.inspect, "ttlMs", store());
      const key = randomKey();
      const created = record({}, 30_000);
      await store().set(key, created, { ifVersion: 0 });
      const ttl = await ttlMs(store(), key);
      expect(ttl).not.toBeNull();
      expect(ttl as number).toBeGreaterThan(25_000);
      expect(ttl as number).toBeLessThanOrEqual(30_000);
      await store().set(
        key,
        { ...created, version: 2, expiresAt: now() + 90_000 },
        { ifVersion: 1 },
      );
      expect((await ttlMs(store(), key)) as number).toBeGreaterThan(85_000);
    });

    it("stored expiresAt matches the record (inspect.storedExpiresAt)", async (ctx) => {
      const storedExpiresAt = requireHook(ctx, options.inspect, "storedExpiresAt");
      const key = randomKey();
      const created = record({}, 30_000);
      await store().set(key, created, { ifVersion: 0 });
      expect(await storedExpiresAt(store(), key)).toBe(created.expiresAt);
    });
  });
};
