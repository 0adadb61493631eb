import { describe, expect, it } from "vitest";
import { CORE_CYCLES, measureCoreCpu } from "../src/core-cpu.js";
import { forkFromSources } from "./fixtures/fork-from-sources.js";

describe("measureCoreCpu", () => {
  it("measures every kind of cycle in interleaved blocks, then what each allocates", async () => {
    const phases: string[] = [];
    const results = await measureCoreCpu(
      400,
      2,
      (phase) => phases.push(phase),
      { ms: 100, turnMs: 50 },
      forkFromSources,
    );
    expect(results.map((r) => r.cycle)).toEqual([...CORE_CYCLES]);
    for (const r of results) {
      expect(r.iterations).toBe(400);
      expect(r.repetitions).toHaveLength(2);
      expect(r.cpuMicrosPerCycle).toBeGreaterThan(0);
      expect(r.referenceNanosPerIteration).toBeGreaterThan(0);
      // A cycle parses, verifies, hashes and decodes: kilobytes of garbage at least.
      expect(r.bytesPerCycleMin).toBeGreaterThan(1000);
      expect(r.bytesPerCycleMin).toBeLessThanOrEqual(r.bytesPerCycle as number);
      expect(r.bytesPerCycle).toBeLessThanOrEqual(r.bytesPerCycleMax as number);
    }
    // Each figure comes from its own kind's process: a change encodes the session
    // (6.5 against 3.9 KB per cycle, BENCHMARKS.md finding 54), and checking writes
    // against the schema costs more again.
    const bytes = (cycle: string) => results.find((r) => r.cycle === cycle)?.bytesPerCycle ?? 0;
    expect(bytes("changed")).toBeGreaterThan(bytes("unchanged") + 1000);
    expect(bytes("changed, zod schema, checkWrites")).toBeGreaterThan(
      bytes("changed, zod schema") + 500,
    );
    // Repetition 2 runs the kinds in reverse order; allocation comes after every block.
    const reps = phases.filter((p) => p.includes("· rep "));
    expect(reps[0]).toBe("unchanged cycle · rep 1/2");
    expect(reps[CORE_CYCLES.length]).toBe("changed, zod schema, checkWrites cycle · rep 2/2");
    const firstAllocation = phases.findIndex((p) => p.endsWith("· allocation"));
    expect(firstAllocation).toBeGreaterThan(phases.lastIndexOf(reps.at(-1) as string));
  }, 120_000);
});
