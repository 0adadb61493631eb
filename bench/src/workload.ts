import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";

/** What a realistic signed-in session holds: about 230 bytes of JSON (260 with core's envelope). */
export interface BenchData {
  userId: string;
  roles: string[];
  csrf: string;
  cart: { sku: string; qty: number; priceCents: number }[];
  visits: number;
}

export function sessionData(index: number): BenchData {
  return {
    userId: `user-${100_000 + index}`,
    roles: ["customer", "beta"],
    csrf: randomBytes(24).toString("base64url"),
    cart: [
      { sku: "SKU-10001", qty: 1, priceCents: 2_999 },
      { sku: "SKU-20417", qty: 2, priceCents: 1_450 },
      { sku: "SKU-31152", qty: 1, priceCents: 500 },
    ],
    visits: 0,
  };
}

/** The measured operations: store-level primitives and the two request cycles. */
export const OPERATIONS = ["get", "set", "touch", "destroy", "changed", "unchanged"] as const;
export type OperationName = (typeof OPERATIONS)[number];

/**
 * One measured operation. `run(i)` is called with a run-local index; subjects
 * map it onto their pre-populated sessions (so concurrent calls never share a
 * session). `before(n)` prepares, untimed, what up to `n` calls will consume.
 */
export interface Operation {
  run(index: number): Promise<void>;
  before?(count: number): Promise<void>;
}

export interface RunStats {
  readonly ops: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface Measurement {
  readonly opsPerSec: number;
  readonly opsPerSecMin: number;
  readonly opsPerSecMax: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly runs: number;
  readonly opsPerRun: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

/** One timed run: `concurrency` workers call `op` until the time or the operation budget is spent. */
async function timedRun(
  operation: Operation,
  concurrency: number,
  durationMs: number,
  maxOps: number,
): Promise<RunStats> {
  await operation.before?.(maxOps);
  const latencies = new Float64Array(maxOps + concurrency);
  let started = 0;
  let done = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async (): Promise<void> => {
    while (started < maxOps && performance.now() < deadline) {
      const index = started++;
      const t0 = performance.now();
      await operation.run(index);
      latencies[done++] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - start;
  const sorted = latencies.subarray(0, done).sort();
  return {
    ops: done,
    opsPerSec: (done / elapsed) * 1000,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
  };
}

export interface MeasureOptions {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly runs: number;
  readonly runMs: number;
  readonly maxOps: number;
}

/** Warm-up, then several timed runs: medians, and the min–max spread of ops/s across runs. */
export async function measure(operation: Operation, options: MeasureOptions): Promise<Measurement> {
  await timedRun(operation, options.concurrency, options.warmupMs, options.maxOps);
  const runs: RunStats[] = [];
  for (let i = 0; i < options.runs; i++) {
    runs.push(await timedRun(operation, options.concurrency, options.runMs, options.maxOps));
  }
  const rates = runs.map((run) => run.opsPerSec);
  return {
    opsPerSec: median(rates),
    opsPerSecMin: Math.min(...rates),
    opsPerSecMax: Math.max(...rates),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    runs: runs.length,
    opsPerRun: median(runs.map((run) => run.ops)),
  };
}

/** Runs `work` with at most `concurrency` calls in flight, for pre-population. */
export async function inParallel(
  count: number,
  concurrency: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Maps a run-local index onto a session slot; workers never share one while `slots >= concurrency`. */
export function slotOf(index: number, slots: number): number {
  return index % slots;
}
