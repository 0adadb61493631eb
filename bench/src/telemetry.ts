import { fileURLToPath } from "node:url";
import { createSessionManager, type SessionInstrumentation } from "@sessionkit/core";
import { sessionTelemetry } from "@sessionkit/opentelemetry";
import { createMemoryStore } from "@sessionkit/store-memory";
import type { BenchConfig } from "./config.js";
import { cannon, login } from "./http.js";
import { forkMeasured } from "./pin.js";
import { emit, type HttpResult, type TargetResult } from "./report.js";
import { signedInCookies } from "./sessionkit-subject.js";
import { SECRET } from "./subject.js";
import { type BenchData, median } from "./workload.js";

const VARIANTS = {
  off: "node:http + sessionkit/memory, no instrumentation",
  noop: "node:http + sessionkit/memory, sessionTelemetry() with no SDK (no-op provider)",
} as const;
type Variant = keyof typeof VARIANTS;

/** Starts one variant's server in its own process; resolves with its port. */
function startServer(variant: Variant) {
  const child = forkMeasured(fileURLToPath(new URL("./telemetry-server.ts", import.meta.url)), [
    variant,
  ]);
  const port = new Promise<number>((resolve, reject) => {
    child.once("message", (message) => resolve((message as { port: number }).port));
    child.once("exit", (code) =>
      reject(new Error(`telemetry server (${variant}) exited: ${code}`)),
    );
  });
  return { child, port };
}

/**
 * The cost of `@sessionkit/opentelemetry` when no SDK is registered: the same
 * app with and without `sessionTelemetry()`, each in its own process, driven
 * in alternating runs (off, noop, noop, off, …) at `config.http.connections`
 * connections, so drift in machine load hits both alike. Emits both figures
 * and their ratio (target: ≥ 0.95).
 */
export async function benchTelemetry(config: BenchConfig): Promise<HttpResult[]> {
  const servers = { off: startServer("off"), noop: startServer("noop") };
  const results: HttpResult[] = [];
  try {
    const [off, noop] = await Promise.all([servers.off.port, servers.noop.port]);
    const ports = { off, noop };
    const cookies = {
      off: await login(ports.off, config.http.connections),
      noop: await login(ports.noop, config.http.connections),
    };
    const rounds = config.quick ? 4 : 6;
    for (const route of config.http.routes) {
      const runs: Record<Variant, Awaited<ReturnType<typeof cannon>>[]> = { off: [], noop: [] };
      for (const variant of ["off", "noop"] as const) {
        if (config.http.warmupSeconds > 0)
          await cannon(ports[variant], route, cookies[variant], config, config.http.warmupSeconds);
      }
      for (let round = 0; round < rounds; round++) {
        const order: Variant[] = round % 2 === 0 ? ["off", "noop"] : ["noop", "off"];
        for (const variant of order) {
          runs[variant].push(
            await cannon(ports[variant], route, cookies[variant], config, config.http.seconds),
          );
        }
      }
      const rate: Partial<Record<Variant, number>> = {};
      for (const variant of ["off", "noop"] as const) {
        const rates = runs[variant].map((run) => run.requests.total / run.duration);
        const result: HttpResult = {
          type: "http",
          app: VARIANTS[variant],
          comparison: "telemetry",
          framework: "node:http",
          store: "memory",
          sessions: "sessionkit",
          route,
          connections: config.http.connections,
          reqPerSec: median(rates),
          reqPerSecMin: Math.min(...rates),
          reqPerSecMax: Math.max(...rates),
          p50Ms: median(runs[variant].map((run) => run.latency.p50)),
          p99Ms: median(runs[variant].map((run) => run.latency.p99)),
          errors: runs[variant].reduce((sum, run) => sum + run.errors, 0),
          non2xx: runs[variant].reduce((sum, run) => sum + run.non2xx, 0),
        };
        if (result.non2xx > 0 || result.errors > 0) {
          console.error(
            `# ${result.app} ${route}: ${result.non2xx} non-2xx, ${result.errors} errors: figure invalid`,
          );
        }
        emit(result);
        results.push(result);
        rate[variant] = result.reqPerSec;
      }
      const ratio = (rate.noop ?? Number.NaN) / (rate.off ?? Number.NaN);
      const target: TargetResult = {
        type: "target",
        target: `http ${route} c${config.http.connections}: node:http + sessionkit/memory, sessionTelemetry() no-op / no instrumentation`,
        ratio,
        threshold: 0.95,
        comparison: ">=",
        pass: ratio >= 0.95,
      };
      emit(target);
    }
  } finally {
    for (const { child } of Object.values(servers)) if (child.connected) child.disconnect();
  }
  return results;
}

/** A load + unchanged commit cycle on a memory store, with or without instrumentation. */
async function cycleOf(instrumentation: SessionInstrumentation | undefined) {
  const store = createMemoryStore({ maxEntries: 10_000, gcIntervalMs: false });
  const manager = createSessionManager<BenchData>({
    store,
    secrets: [SECRET],
    ...(instrumentation === undefined ? {} : { instrumentation }),
  });
  const cookies = await signedInCookies(manager, 1_000);
  let next = 0;
  return async () => {
    const session = await manager.load({ headers: { cookie: cookies[next++ % 1_000] as string } });
    session.get("roles");
    await session.commit();
  };
}

/**
 * CPU per load + unchanged-commit cycle, in process and without I/O, with
 * and without `sessionTelemetry()` (no SDK registered), in alternating
 * blocks: a figure that machine load disturbs far less than requests per
 * second. Emits the ratio noop / off (target: ≤ 1.05).
 */
export async function measureTelemetryCpu(iterations: number): Promise<TargetResult> {
  const cycles = { off: await cycleOf(undefined), noop: await cycleOf(sessionTelemetry()) };
  const perCycle: Record<Variant, number[]> = { off: [], noop: [] };
  const block = Math.max(1, Math.floor(iterations / 10));
  for (const variant of ["off", "noop"] as const) {
    for (let i = 0; i < block; i++) await cycles[variant]();
  }
  for (let round = 0; round < 10; round++) {
    const order: Variant[] = round % 2 === 0 ? ["off", "noop"] : ["noop", "off"];
    for (const variant of order) {
      const run = cycles[variant];
      const cpu = process.cpuUsage();
      for (let i = 0; i < block; i++) await run();
      const used = process.cpuUsage(cpu);
      perCycle[variant].push((used.user + used.system) / block);
    }
  }
  const off = median(perCycle.off);
  const noop = median(perCycle.noop);
  console.error(
    `# telemetry CPU per cycle: ${off.toFixed(2)} µs without, ${noop.toFixed(2)} µs with sessionTelemetry() (no SDK)`,
  );
  const target: TargetResult = {
    type: "target",
    target: "core CPU per unchanged cycle: sessionTelemetry() no-op / no instrumentation",
    ratio: noop / off,
    threshold: 1.05,
    comparison: "<=",
    pass: noop / off <= 1.05,
  };
  emit(target);
  return target;
}
