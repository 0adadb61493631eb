import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ALLOCATION_SAMPLES } from "./allocation.js";
import { ask } from "./ipc.js";
import { forkMeasured } from "./pin.js";
import { median } from "./workload.js";

/** How a cycle process is named in errors ("core-cpu cycle process exited (code 1)"). */
const CYCLE_PROCESS = "core-cpu cycle";

/** Warm-up of each cycle kind's process before the measured blocks, in turns, ms. */
export interface CoreCpuWarmUp {
  /** Warm-up of each kind in all. */
  readonly ms: number;
  /** One turn of one kind; the kinds take turns. */
  readonly turnMs: number;
}

/** The benchmark's warm-up: 5 s per kind, in turns of 250 ms. */
const WARM_UP: CoreCpuWarmUp = { ms: 5_000, turnMs: 250 };

/** How the cycle processes are started: measured (pinned), able to run the garbage collector. */
const forkCycleProcess = (script: string, args: readonly string[]): ChildProcess =>
  forkMeasured(script, args, undefined, ["--expose-gc"]);

/**
 * The measured cycles, as a production process runs them (`NODE_ENV` is
 * `production`): without a schema; with a zod schema, which checks every
 * load (the default `checkWrites` is off in production); and the changed
 * cycle with `checkWrites: true`, the cost of checking writes too (shown,
 * not a target).
 */
export const CORE_CYCLES = [
  "unchanged",
  "changed",
  "unchanged, zod schema",
  "changed, zod schema",
  "changed, zod schema, checkWrites",
] as const;

/** One kind of measured core cycle. */
export type CoreCycle = (typeof CORE_CYCLES)[number];

export interface CoreCpuResult {
  readonly cycle: CoreCycle;
  readonly iterations: number;
  /** CPU time (user + system) per request cycle, µs: the median over the repetitions. */
  readonly cpuMicrosPerCycle: number;
  readonly cpuMicrosPerCycleMin: number;
  readonly cpuMicrosPerCycleMax: number;
  /** CPU µs per cycle of each repetition, in order. */
  readonly repetitions: readonly number[];
  /** Wall time per cycle, µs: the median over the repetitions. */
  readonly wallMicrosPerCycle: number;
  /**
   * CPU ns per iteration of a fixed reference loop run on the same core right
   * before each block (median): how fast the core ran while this kind was
   * measured, so runs on a shared machine can be compared. Absent from runs
   * before it was added.
   */
  readonly referenceNanosPerIteration?: number;
  /**
   * Young-generation bytes allocated per cycle, median of the samples taken
   * after the blocks (see `allocation.ts`), with min and max. Absent from
   * runs before it was added.
   */
  readonly bytesPerCycle?: number;
  readonly bytesPerCycleMin?: number;
  readonly bytesPerCycleMax?: number;
}

/**
 * CPU per request cycle with no I/O: memory store, sequential, so the figure
 * is cookie parsing, signature check, store key hash, decode, encode and (when
 * the cookie is re-sent) signing, plus the promise plumbing of load and commit.
 *
 * Each kind of cycle runs in a process of its own (`core-cpu-cycle.ts`), so no
 * kind pays for the garbage another left in the heap: in one shared process the
 * first one or two repetitions measured 10–30 % above the rest, a block paying
 * for the old-generation garbage the block before it promoted. The processes are
 * warmed up in turns (`warmUp`, 5 s each by default), then driven in interleaved blocks (in
 * order, then in reverse order, …), one process running at a time, so drift in
 * machine load hits every kind alike. `iterations` cycles of each kind in
 * `repetitions` blocks; after them, each kind's young-generation bytes per
 * cycle, a figure the host's noise does not move.
 */
export async function measureCoreCpu(
  iterations: number,
  repetitions: number,
  onProgress?: (phase: string) => void,
  warmUp: CoreCpuWarmUp = WARM_UP,
  forkChild: (script: string, args: readonly string[]) => ChildProcess = forkCycleProcess,
): Promise<CoreCpuResult[]> {
  const script = fileURLToPath(new URL("./core-cpu-cycle.ts", import.meta.url));
  const processes = new Map<CoreCycle, ChildProcess>();
  try {
    for (const cycle of CORE_CYCLES) {
      const child = forkChild(script, [cycle]);
      processes.set(cycle, child);
      await ask(child, CYCLE_PROCESS);
    }
    // Warmed up in turns, as the blocks are then measured: a
    // process left idle for seconds has its heap shrunk, and its first block then
    // pays for growing it again.
    for (let warmed = 0; warmed < warmUp.ms; warmed += warmUp.turnMs) {
      for (const cycle of CORE_CYCLES) {
        onProgress?.(`${cycle} cycle · warm-up`);
        await ask(processes.get(cycle) as ChildProcess, CYCLE_PROCESS, { warmUp: warmUp.turnMs });
      }
    }
    const block = Math.max(1, Math.round(iterations / repetitions));
    const cpu = new Map<CoreCycle, number[]>(CORE_CYCLES.map((cycle) => [cycle, []]));
    const wall = new Map<CoreCycle, number[]>(CORE_CYCLES.map((cycle) => [cycle, []]));
    const reference = new Map<CoreCycle, number[]>(CORE_CYCLES.map((cycle) => [cycle, []]));
    for (let rep = 0; rep < repetitions; rep++) {
      const order = rep % 2 === 0 ? CORE_CYCLES : [...CORE_CYCLES].reverse();
      for (const cycle of order) {
        onProgress?.(`${cycle} cycle · rep ${rep + 1}/${repetitions}`);
        const reply = await ask<{ cpu: number; wall: number; reference: number }>(
          processes.get(cycle) as ChildProcess,
          CYCLE_PROCESS,
          { block },
        );
        cpu.get(cycle)?.push(Number(reply.cpu.toFixed(3)));
        wall.get(cycle)?.push(reply.wall);
        reference.get(cycle)?.push(reply.reference);
      }
    }
    // After every block: the forced collections never precede a block.
    const bytes = new Map<CoreCycle, number[]>();
    for (const cycle of CORE_CYCLES) {
      onProgress?.(`${cycle} cycle · allocation`);
      const reply = await ask<{ bytes: number[] }>(
        processes.get(cycle) as ChildProcess,
        CYCLE_PROCESS,
        { allocation: ALLOCATION_SAMPLES },
      );
      bytes.set(cycle, reply.bytes);
    }
    return CORE_CYCLES.map((cycle) => {
      const times = cpu.get(cycle) as number[];
      const allocated = bytes.get(cycle) as number[];
      return {
        cycle,
        iterations: block * repetitions,
        cpuMicrosPerCycle: median(times),
        cpuMicrosPerCycleMin: Math.min(...times),
        cpuMicrosPerCycleMax: Math.max(...times),
        repetitions: times,
        wallMicrosPerCycle: median(wall.get(cycle) as number[]),
        referenceNanosPerIteration: Math.round(median(reference.get(cycle) as number[])),
        bytesPerCycle: median(allocated),
        bytesPerCycleMin: Math.min(...allocated),
        bytesPerCycleMax: Math.max(...allocated),
      };
    });
  } finally {
    for (const child of processes.values()) if (child.connected) child.disconnect();
  }
}
