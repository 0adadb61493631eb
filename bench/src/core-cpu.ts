import { createSessionManager } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { z } from "zod";
import { cookiePair } from "./sessionkit-subject.js";
import { SECRET } from "./subject.js";
import { type BenchData, median, sessionData } from "./workload.js";

/** Shortest warm-up before the measured blocks. */
const WARM_UP_MS = 5_000;

/** The measured cycles: without a schema, and with a zod schema validating loads and writes. */
export const CORE_CYCLES = [
  "unchanged",
  "changed",
  "unchanged, zod schema",
  "changed, zod schema",
] as const;

export interface CoreCpuResult {
  readonly cycle: (typeof CORE_CYCLES)[number];
  readonly iterations: number;
  /** CPU time (user + system) per request cycle, µs: the median over the repetitions. */
  readonly cpuMicrosPerCycle: number;
  readonly cpuMicrosPerCycleMin: number;
  readonly cpuMicrosPerCycleMax: number;
  /** CPU µs per cycle of each repetition, in order. */
  readonly repetitions: readonly number[];
  /** Wall time per cycle, µs: the median over the repetitions. */
  readonly wallMicrosPerCycle: number;
}

/**
 * CPU per request cycle with no I/O: memory store, sequential, so the figure
 * is cookie parsing, signature check, store key hash, decode, encode and (when
 * the cookie is re-sent) signing, plus the promise plumbing of load and commit.
 * `iterations` cycles of each kind in `repetitions` interleaved blocks.
 */
export async function measureCoreCpu(
  iterations: number,
  repetitions: number,
  onProgress?: (phase: string) => void,
): Promise<CoreCpuResult[]> {
  const store = createMemoryStore({ maxEntries: 10_000, gcIntervalMs: false });
  const manager = createSessionManager<BenchData>({ store, secrets: [SECRET] });
  // The same sessions, checked on load and on write by a schema of their shape.
  const schema = z.object({
    userId: z.string(),
    roles: z.array(z.string()),
    csrf: z.string(),
    cart: z.array(z.object({ sku: z.string(), qty: z.number().int(), priceCents: z.number() })),
    visits: z.number().int(),
  });
  const validated = createSessionManager({ store, secrets: [SECRET], schema });
  const cookies: string[] = [];
  for (let i = 0; i < 1_000; i++) {
    const session = await manager.load({ headers: {} });
    const data = sessionData(i);
    for (const key of Object.keys(data) as (keyof BenchData)[]) session.set(key, data[key]);
    const setCookie = (await session.commit()).headers.find(([name]) => name === "Set-Cookie");
    cookies.push(cookiePair((setCookie as readonly [string, string])[1]));
  }
  let visits = 0;
  /** Load, then read an object value (unchanged) or set the counter (changed), then commit. */
  const cycle =
    (sessions: typeof manager, change: boolean) =>
    async (cookie: string): Promise<void> => {
      const session = await sessions.load({ headers: { cookie } });
      if (change) session.set("visits", ++visits);
      else session.get("roles");
      await session.commit();
    };
  const cycles: Record<CoreCpuResult["cycle"], (cookie: string) => Promise<void>> = {
    unchanged: cycle(manager, false),
    changed: cycle(manager, true),
    "unchanged, zod schema": cycle(validated, false),
    "changed, zod schema": cycle(validated, true),
  };
  // Interleaved blocks (in order, then in reverse order, …), as for the HTTP apps.
  const block = Math.max(1, Math.round(iterations / repetitions));
  // Warm-up: rounds of blocks, unmeasured, for at least WARM_UP_MS. process.cpuUsage()
  // counts every thread, so the optimising compiler's work on a cycle still being
  // compiled, and the collector's while the heap grows to its working size, would
  // land on the first measured blocks: one long run settles after about 0.6 s.
  // (The first one or two repetitions can still measure 10–30 % above the rest: a
  // block pays for old-generation garbage the block before it promoted.)
  const warmUpEnds = Date.now() + WARM_UP_MS;
  for (let round = 0; round < 2 || Date.now() < warmUpEnds; round++) {
    for (const cycle of CORE_CYCLES) {
      const run = cycles[cycle];
      for (let i = 0; i < block; i++) await run(cookies[i % cookies.length] as string);
    }
  }
  const cpu = Object.fromEntries(CORE_CYCLES.map((cycle) => [cycle, [] as number[]]));
  const wall = Object.fromEntries(CORE_CYCLES.map((cycle) => [cycle, [] as number[]]));
  for (let rep = 0; rep < repetitions; rep++) {
    const order = rep % 2 === 0 ? CORE_CYCLES : [...CORE_CYCLES].reverse();
    for (const cycle of order) {
      onProgress?.(`${cycle} cycle · rep ${rep + 1}/${repetitions}`);
      const run = cycles[cycle];
      const cpuStart = process.cpuUsage();
      const wallStart = process.hrtime.bigint();
      for (let i = 0; i < block; i++) await run(cookies[i % cookies.length] as string);
      const used = process.cpuUsage(cpuStart);
      const wallNs = Number(process.hrtime.bigint() - wallStart);
      (cpu[cycle] as number[]).push(Number(((used.user + used.system) / block).toFixed(3)));
      (wall[cycle] as number[]).push(wallNs / 1000 / block);
    }
  }
  const results: CoreCpuResult[] = CORE_CYCLES.map((cycle) => {
    const times = cpu[cycle] as number[];
    return {
      cycle,
      iterations: block * repetitions,
      cpuMicrosPerCycle: median(times),
      cpuMicrosPerCycleMin: Math.min(...times),
      cpuMicrosPerCycleMax: Math.max(...times),
      repetitions: times,
      wallMicrosPerCycle: median(wall[cycle] as number[]),
    };
  });
  await store.close?.();
  return results;
}
