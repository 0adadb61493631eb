import { describe, expect, it } from "vitest";
import { Deadlines } from "../src/deadlines.js";

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Deadlines: one timer for a manager's store calls", () => {
  it("expires exactly the calls not settled within the timeout, each once", async () => {
    const deadlines = new Deadlines(30);
    const expired: number[] = [];
    const settles = Array.from({ length: 3_000 }, (_, i) => deadlines.watch(() => expired.push(i)));
    // Settled out of order and in order, all but three.
    for (let i = settles.length - 1; i >= 0; i--) if (i % 1_000 !== 7) settles[i]?.();
    await wait(60);
    expect(expired).toEqual([7, 1_007, 2_007]);
    // Settling after expiry, or twice, changes nothing.
    settles[7]?.();
    settles[8]?.();
    await wait(40);
    expect(expired).toEqual([7, 1_007, 2_007]);
  });

  it("a call started after an older one expired gets its own full timeout", async () => {
    const deadlines = new Deadlines(40);
    const expired: string[] = [];
    deadlines.watch(() => expired.push("first"));
    await wait(25);
    const settleSecond = deadlines.watch(() => expired.push("second"));
    await wait(30);
    expect(expired).toEqual(["first"]);
    settleSecond();
    await wait(30);
    expect(expired).toEqual(["first"]);
    deadlines.watch(() => expired.push("third"));
    await wait(60);
    expect(expired).toEqual(["first", "third"]);
  });
});
