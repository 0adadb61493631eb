import { createSessionManager } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { cookiePair } from "./sessionkit-subject.js";
import { SECRET } from "./subject.js";
import { type BenchData, median, sessionData } from "./workload.js";

export interface CoreCpuResult {
  readonly cycle: "unchanged" | "changed";
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
  const cookies: string[] = [];
  for (let i = 0; i < 1_000; i++) {
    const session = await manager.load({ headers: {} });
    const data = sessionData(i);
    for (const key of Object.keys(data) as (keyof BenchData)[]) session.set(key, data[key]);
    const setCookie = (await session.commit()).headers.find(([name]) => name === "Set-Cookie");
    cookies.push(cookiePair((setCookie as readonly [string, string])[1]));
  }
  let visits = 0;
  const cycles = {
    unchanged: async (cookie: string) => {
      const session = await manager.load({ headers: { cookie } });
      session.get("roles");
      await session.commit();
    },
    changed: async (cookie: string) => {
      const session = await manager.load({ headers: { cookie } });
      session.set("visits", ++visits);
      await session.commit();
    },
  };
  for (const cycle of ["unchanged", "changed"] as const) {
    const run = cycles[cycle];
    for (let i = 0; i < iterations / 10; i++) await run(cookies[i % cookies.length] as string);
  }
  // Interleaved blocks (unchanged, changed; then changed, unchanged; …), as for the HTTP apps.
  const block = Math.max(1, Math.round(iterations / repetitions));
  const cpu: Record<keyof typeof cycles, number[]> = { unchanged: [], changed: [] };
  const wall: Record<keyof typeof cycles, number[]> = { unchanged: [], changed: [] };
  for (let rep = 0; rep < repetitions; rep++) {
    const order =
      rep % 2 === 0 ? (["unchanged", "changed"] as const) : (["changed", "unchanged"] as const);
    for (const cycle of order) {
      onProgress?.(`${cycle} cycle · rep ${rep + 1}/${repetitions}`);
      const run = cycles[cycle];
      const cpuStart = process.cpuUsage();
      const wallStart = process.hrtime.bigint();
      for (let i = 0; i < block; i++) await run(cookies[i % cookies.length] as string);
      const used = process.cpuUsage(cpuStart);
      const wallNs = Number(process.hrtime.bigint() - wallStart);
      cpu[cycle].push(Number(((used.user + used.system) / block).toFixed(3)));
      wall[cycle].push(wallNs / 1000 / block);
    }
  }
  const results: CoreCpuResult[] = (["unchanged", "changed"] as const).map((cycle) => ({
    cycle,
    iterations: block * repetitions,
    cpuMicrosPerCycle: median(cpu[cycle]),
    cpuMicrosPerCycleMin: Math.min(...cpu[cycle]),
    cpuMicrosPerCycleMax: Math.max(...cpu[cycle]),
    repetitions: cpu[cycle],
    wallMicrosPerCycle: median(wall[cycle]),
  }));
  await store.close?.();
  return results;
}
