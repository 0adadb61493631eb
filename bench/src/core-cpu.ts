import { createSessionManager } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { cookiePair } from "./sessionkit-subject.js";
import { SECRET } from "./subject.js";
import { type BenchData, sessionData } from "./workload.js";

export interface CoreCpuResult {
  readonly cycle: "unchanged" | "changed";
  readonly iterations: number;
  /** CPU time (user + system) per request cycle, µs. */
  readonly cpuMicrosPerCycle: number;
  readonly wallMicrosPerCycle: number;
}

/**
 * CPU per request cycle with no I/O: memory store, sequential, so the figure
 * is cookie parsing, signature check, store key hash, decode, encode and (when
 * the cookie is re-sent) signing, plus the promise plumbing of load and commit.
 */
export async function measureCoreCpu(iterations: number): Promise<CoreCpuResult[]> {
  const store = createMemoryStore({ maxEntries: 10_000, sweepIntervalMs: false });
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
  const results: CoreCpuResult[] = [];
  for (const cycle of ["unchanged", "changed"] as const) {
    const run = cycles[cycle];
    for (let i = 0; i < iterations / 10; i++) await run(cookies[i % cookies.length] as string);
    const cpu = process.cpuUsage();
    const wall = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await run(cookies[i % cookies.length] as string);
    const used = process.cpuUsage(cpu);
    const wallNs = Number(process.hrtime.bigint() - wall);
    results.push({
      cycle,
      iterations,
      cpuMicrosPerCycle: (used.user + used.system) / iterations,
      wallMicrosPerCycle: wallNs / 1000 / iterations,
    });
  }
  await store.close?.();
  return results;
}
