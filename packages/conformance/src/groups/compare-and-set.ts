import { describe, it } from "vitest";
import { expect, useStore } from "../harness.js";
import type { ConformanceGroup } from "../options.js";
import { randomKey } from "../records.js";

/** The `compare-and-set` group: under contention, exactly one writer wins. */
export const compareAndSetGroup: ConformanceGroup = (options) => {
  describe("compare-and-set", () => {
    const { store, record, now } = useStore(options);

    it("of 20 concurrent set(key, …, { ifVersion: 1 }) exactly one succeeds", async () => {
      const key = randomKey();
      const created = record();
      await store().set(key, created, { ifVersion: 0 });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store().set(key, { ...created, payload: `"writer ${i}"`, version: 2 }, { ifVersion: 1 }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await store().get(key))?.payload).toBe(`"writer ${winner}"`);
    });

    it("of 20 concurrent creates of one key exactly one succeeds", async () => {
      const key = randomKey();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store().set(key, record({ payload: `"creator ${i}"` }), { ifVersion: 0 }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store().get(key))?.payload).toBe(`"creator ${results.indexOf(true)}"`);
    });

    it("a chain of 30 read-modify-write cycles loses no update", async () => {
      const key = randomKey();
      await store().set(key, record({ payload: "0" }), { ifVersion: 0 });
      const increment = async (): Promise<void> => {
        for (;;) {
          const current = await store().get(key);
          if (current === null) throw new Error("record vanished");
          const next = {
            ...current,
            payload: String(Number(current.payload) + 1),
            version: current.version + 1,
          };
          if (await store().set(key, next, { ifVersion: current.version })) return;
        }
      };
      await Promise.all(Array.from({ length: 30 }, increment));
      const final = await store().get(key);
      expect(final?.payload).toBe("30");
      expect(final?.version).toBe(31);
    });

    it("a write racing a destroy never resurrects the record", async () => {
      for (let i = 0; i < 10; i++) {
        const key = randomKey();
        const created = record();
        await store().set(key, created, { ifVersion: 0 });
        await Promise.all([
          store().destroy(key),
          store().set(key, { ...created, version: 2 }, { ifVersion: 1 }),
          store().touch?.(key, now() + 60_000),
        ]);
        // Whatever the interleaving, the destroy is last to matter.
        await store().set(key, { ...created, version: 3 }, { ifVersion: 2 });
        expect(await store().get(key)).toBeNull();
      }
    });
  });
};
