import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ask } from "./ipc.js";
import { forkMeasured } from "./pin.js";
import { median } from "./workload.js";

/** Iterations of the reference loop before each block. */
const REFERENCE_ITERATIONS = 100_000;

/**
 * CPU ns per iteration of a fixed loop (`JSON.stringify` of a small object),
 * measured on the same core right before a block: how fast that core ran
 * then. On a shared machine it moves by half between minutes, and the
 * figures measured next to it with it.
 */
export function referenceNanos(): number {
  const start = process.cpuUsage();
  let length = 0;
  for (let i = 0; i < REFERENCE_ITERATIONS; i++) {
    length += JSON.stringify({ a: i, b: [1, 2, 3], c: `reference ${i}` }).length;
  }
  const used = process.cpuUsage(start);
  if (length === 0) throw new Error("unreachable: keeps the loop from being optimised away");
  return ((used.user + used.system) * 1000) / REFERENCE_ITERATIONS;
}

/** Reference loops run by {@link measuredCoreSpeed}; the median is reported. */
const SPEED_SAMPLES = 5;

/**
 * The reference loop's CPU ns per iteration on the measured core (a child
 * process started by `forkChild`, pinned like the measured processes by
 * default), the median of five: how fast that core runs now. `pnpm bench`
 * reads it at the start and at the end of a run, so a host running slow is
 * seen before a run's figures are compared with another's.
 */
export async function measuredCoreSpeed(
  forkChild: (script: string, args: readonly string[]) => ChildProcess = forkMeasured,
): Promise<number> {
  const child = forkChild(fileURLToPath(import.meta.url), ["--speed"]);
  return (await ask<{ nanos: number }>(child, "reference loop")).nanos;
}

// Run as a child by measuredCoreSpeed: answer once, then exit.
if (process.argv.includes("--speed") && process.argv[1] === fileURLToPath(import.meta.url)) {
  const samples = Array.from({ length: SPEED_SAMPLES }, referenceNanos);
  process.send?.({ nanos: Math.round(median(samples)) }, () => process.disconnect());
}
