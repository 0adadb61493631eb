import { iterateKeys, type KeyPage } from "@sessionkit/core/store";
import { describe, it } from "vitest";
import { expect, requireCapability, useStore } from "../harness.js";
import type { ConformanceGroup } from "../options.js";
import { randomKey } from "../records.js";

/** The `listing` group: count, clear and cursor-based keys. */
export const listingGroup: ConformanceGroup = (options) => {
  describe("listing", () => {
    const { store, record, another } = useStore(options);

    it("count() counts live sessions", async (ctx) => {
      requireCapability(ctx, store(), "count");
      expect(await store().count?.()).toBe(0);
      for (let i = 0; i < 5; i++) await store().set(randomKey(), record(), { ifVersion: 0 });
      const doomed = randomKey();
      await store().set(doomed, record(), { ifVersion: 0 });
      await store().destroy(doomed);
      expect(await store().count?.()).toBe(5);
    });

    it("clear() removes every session of this store", async (ctx) => {
      requireCapability(ctx, store(), "clear");
      const keys = Array.from({ length: 5 }, randomKey);
      for (const key of keys) await store().set(key, record({ userId: "u" }), { ifVersion: 0 });
      await store().clear?.();
      for (const key of keys) expect(await store().get(key)).toBeNull();
      if (store().capabilities.count) expect(await store().count?.()).toBe(0);
      if (store().capabilities.userIndex) expect(await store().listByUser?.("u")).toEqual([]);
    });

    it("clear() leaves other stores alone", async (ctx) => {
      requireCapability(ctx, store(), "clear");
      const other = await another();
      const key = randomKey();
      await other.set(key, record(), { ifVersion: 0 });
      await store().clear?.();
      expect(await other.get(key)).not.toBeNull();
    });

    it("keys() pages through every key with a cursor", async (ctx) => {
      requireCapability(ctx, store(), "keys");
      const keys = Array.from({ length: 25 }, randomKey);
      for (const key of keys) await store().set(key, record(), { ifVersion: 0 });
      const seen = new Set<string>();
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: KeyPage = await (store().keys?.({ cursor, limit: 10 }) ??
          Promise.reject(new Error("no keys()")));
        expect(page.keys.length, "a page holds at most `limit` keys").toBeLessThanOrEqual(10);
        for (const key of page.keys) seen.add(key);
        cursor = page.cursor;
        pages++;
        expect(pages).toBeLessThan(1_000);
      } while (cursor !== null);
      expect([...seen].sort()).toEqual([...keys].sort());
      expect(pages).toBeGreaterThan(1);
    });

    it("keys() returns only this store's live keys", async (ctx) => {
      requireCapability(ctx, store(), "keys");
      const live = randomKey();
      const gone = randomKey();
      await store().set(live, record(), { ifVersion: 0 });
      await store().set(gone, record(), { ifVersion: 0 });
      await store().destroy(gone);
      const all: string[] = [];
      for await (const key of iterateKeys(store())) all.push(key);
      expect(all).toEqual([live]);
    });
  });
};
