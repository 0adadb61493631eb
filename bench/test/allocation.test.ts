import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { type MinorCollection, youngBytesPerUnit } from "../src/allocation.js";
import { median } from "../src/workload.js";

// The test runs without `node --expose-gc`: a new context gets `gc` once the flag is set.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as MinorCollection;

const kept: unknown[] = [];
/** A unit allocates one array of `length` elements (at least 4 bytes each); the last two stay alive. */
const allocating = (length: number) => async (count: number) => {
  for (let i = 0; i < count; i++) kept[i % 2] = new Array(length).fill(i);
};

describe("youngBytesPerUnit", () => {
  it("measures what one unit allocates, the same in every sample", async () => {
    const small = await youngBytesPerUnit(allocating(1_000), 5, gc);
    const large = await youngBytesPerUnit(allocating(4_000), 5, gc);
    expect(small).toHaveLength(5);
    expect(large).toHaveLength(5);
    // 1,000 elements of 4 or 8 bytes (with or without pointer compression), and headers.
    for (const bytes of small) {
      expect(bytes).toBeGreaterThan(4_000);
      expect(bytes).toBeLessThan(9_000);
    }
    expect(Math.max(...small) - Math.min(...small)).toBeLessThan(median(small) * 0.02);
    // Four times the elements, about four times the bytes.
    expect(median(large) / median(small)).toBeGreaterThan(3.5);
    expect(median(large) / median(small)).toBeLessThan(4.5);
  });
});
