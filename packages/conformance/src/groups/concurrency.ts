import type { SessionRecord } from "@sessionkit/core/store";
import { describe, it } from "vitest";
import { expect, useStore } from "../harness.js";
import type { ConformanceGroup } from "../options.js";
import { randomKey } from "../records.js";

/** The `concurrency` group: many operations in flight at once. */
export const concurrencyGroup: ConformanceGroup = (options) => {
  describe("concurrency", () => {
    const { store, record } = useStore(options);

    it("200 concurrent creates, reads and destroys on distinct keys all complete correctly", async () => {
      const keys = Array.from({ length: 200 }, randomKey);
      const records = keys.map((_, i) => record({ payload: `"${i}"` }));
      expect(
        await Promise.all(
          keys.map((key, i) => store().set(key, records[i] as SessionRecord, { ifVersion: 0 })),
        ),
      ).toEqual(keys.map(() => true));
      const loaded = await Promise.all(keys.map((key) => store().get(key)));
      for (const [i, loadedRecord] of loaded.entries())
        expect(loadedRecord?.payload).toBe(`"${i}"`);
      await Promise.all(keys.filter((_, i) => i % 2 === 0).map((key) => store().destroy(key)));
      const after = await Promise.all(keys.map((key) => store().get(key)));
      for (const [i, afterRecord] of after.entries())
        expect(afterRecord === null).toBe(i % 2 === 0);
    });
  });
};
