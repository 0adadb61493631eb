import { randomBytes } from "node:crypto";
import { describe, it } from "vitest";
import { expect, requireCapability, SHORT_TTL_MS, useStore } from "../harness.js";
import type { ConformanceGroup } from "../options.js";
import { randomKey } from "../records.js";

/** A user id no other test uses. */
const userId = () => `user-${randomBytes(6).toString("hex")}`;

/**
 * The `user index` group: list, destroy all, destroy all but one; correct as
 * sessions change and expire.
 */
export const userIndexGroup: ConformanceGroup = (options) => {
  describe("user index", () => {
    const { store, record, advance } = useStore(options);

    it("listByUser(userId) returns the user's live sessions only", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      const alice = userId();
      const keys = [randomKey(), randomKey(), randomKey()];
      for (const key of keys) await store().set(key, record({ userId: alice }), { ifVersion: 0 });
      await store().set(randomKey(), record({ userId: userId() }), { ifVersion: 0 });
      await store().set(randomKey(), record(), { ifVersion: 0 });
      const listed = await store().listByUser?.(alice);
      expect(listed?.map((s) => s.key).sort()).toEqual([...keys].sort());
      for (const entry of listed ?? []) expect(entry.record.userId).toBe(alice);
    });

    it("listByUser(userId) returns [] for an unknown user", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      expect(await store().listByUser?.(userId())).toEqual([]);
    });

    it("listByUser(userId) drops destroyed, expired and re-assigned sessions", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      const alice = userId();
      const [kept, destroyed, expiring, moved] = [
        randomKey(),
        randomKey(),
        randomKey(),
        randomKey(),
      ];
      await store().set(kept, record({ userId: alice }), { ifVersion: 0 });
      await store().set(destroyed, record({ userId: alice }), { ifVersion: 0 });
      await store().set(expiring, record({ userId: alice }, SHORT_TTL_MS), { ifVersion: 0 });
      const movedRecord = record({ userId: alice });
      await store().set(moved, movedRecord, { ifVersion: 0 });
      await store().destroy(destroyed);
      await store().set(
        moved,
        { ...movedRecord, userId: "someone-else", version: 2 },
        { ifVersion: 1 },
      );
      await advance(SHORT_TTL_MS);
      expect((await store().listByUser?.(alice))?.map((s) => s.key)).toEqual([kept]);
    });

    it("listByUser(userId) follows a rename", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      requireCapability(ctx, store(), "rename");
      const alice = userId();
      const oldKey = randomKey();
      const newKey = randomKey();
      const created = record({ userId: alice });
      await store().set(oldKey, created, { ifVersion: 0 });
      await store().rename?.(oldKey, newKey, created);
      expect((await store().listByUser?.(alice))?.map((s) => s.key)).toEqual([newKey]);
    });

    it("destroyByUser(userId) destroys every session of the user and no other", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      const alice = userId();
      const bobKey = randomKey();
      const aliceKeys = [randomKey(), randomKey(), randomKey()];
      for (const key of aliceKeys)
        await store().set(key, record({ userId: alice }), { ifVersion: 0 });
      await store().set(bobKey, record({ userId: userId() }), { ifVersion: 0 });
      expect(await store().destroyByUser?.(alice)).toBe(3);
      for (const key of aliceKeys) expect(await store().get(key)).toBeNull();
      expect(await store().get(bobKey)).not.toBeNull();
      expect(await store().listByUser?.(alice)).toEqual([]);
    });

    it("destroyByUser(userId, { exceptKey }) keeps that one session", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      const alice = userId();
      const current = randomKey();
      const others = [randomKey(), randomKey()];
      await store().set(current, record({ userId: alice }), { ifVersion: 0 });
      for (const key of others) await store().set(key, record({ userId: alice }), { ifVersion: 0 });
      expect(await store().destroyByUser?.(alice, { exceptKey: current })).toBe(2);
      expect(await store().get(current)).not.toBeNull();
      for (const key of others) expect(await store().get(key)).toBeNull();
      expect((await store().listByUser?.(alice))?.map((s) => s.key)).toEqual([current]);
    });

    it("destroyByUser(userId) of an unknown user resolves to 0", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      expect(await store().destroyByUser?.(userId())).toBe(0);
    });

    it("a destroyed session cannot be written back after destroyByUser", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      const alice = userId();
      const key = randomKey();
      const created = record({ userId: alice });
      await store().set(key, created, { ifVersion: 0 });
      await store().destroyByUser?.(alice);
      expect(await store().set(key, { ...created, version: 2 }, { ifVersion: 1 })).toBe(false);
      expect(await store().listByUser?.(alice)).toEqual([]);
    });
  });
};
