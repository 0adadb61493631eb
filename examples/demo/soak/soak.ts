// The sessionkit soak test (issue 9). Not part of the default test run:
//
//   cd examples/demo && pnpm soak [--quick] [--clients N] [--duration S] [--stores a,b]
//
// For each store it starts the demo app on 127.0.0.1, drives it from a worker
// thread with N concurrent clients (each signs in, then adds distinct items
// to its cart over real sockets) for a fixed time, injects a fault from 35 %
// to 60 % of the run, then reads every session back. It prints one JSON line
// per store and exits with 1 if any check fails:
//   1. no acknowledged cart write (a 303) is missing afterwards;
//   2. failures were bare 503s (never a 500, a stack trace, an error, a hang):
//      every failing request answered within the store's timeout + 1 s;
//   3. the app recovered: requests after the fault succeed;
//   4. heapUsed after the run (after gc) is within 20 MB of the warm baseline;
//   5. no unhandled rejection or uncaught exception.
import { randomBytes } from "node:crypto";
import { Worker } from "node:worker_threads";
import { isSessionError } from "@sessionkit/core";
import { createApp } from "../src/app.js";
import { parseOptions, type SoakOptions, type StoreName } from "./options.js";
import type { DriverMessage, LoadConfig, LoadResult, WorkerMessage } from "./protocol.js";
import { mb, quantile, round1 } from "./stats.js";
import { openSoakStore, type SoakStore } from "./stores.js";

/** A request unanswered after this long is aborted by the client and counted as a hang. */
const REQUEST_TIMEOUT_MS = 15_000;

const processErrors: string[] = [];
process.on("unhandledRejection", (reason) =>
  processErrors.push(`unhandledRejection: ${describe(reason)}`),
);
process.on("uncaughtException", (error) =>
  processErrors.push(`uncaughtException: ${describe(error)}`),
);

function describe(error: unknown): string {
  if (isSessionError(error)) return `SessionError ${error.code}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Full garbage collections, with turns of the event loop for finalizers in between. */
async function collect(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 4; i++) {
    globalThis.gc?.();
    await sleep(100);
  }
  return process.memoryUsage();
}

/**
 * Starts soak/load.ts in a worker thread. tsx's `--import` hook does not reach
 * worker threads on Node 20, so the worker registers it itself first.
 */
function startLoadWorker(config: LoadConfig): Worker {
  const tsx = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./load.ts", import.meta.url).href;
  const bootstrap =
    `const { register } = await import(${JSON.stringify(tsx)});\n` +
    `register();\n` +
    `await import(${JSON.stringify(entry)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), {
    workerData: config,
  });
}

/** Receives the worker's messages in order; fails if it dies first. */
function messagesOf(worker: Worker): () => Promise<WorkerMessage> {
  const queue: WorkerMessage[] = [];
  const waiting: Array<{ resolve: (m: WorkerMessage) => void; reject: (e: Error) => void }> = [];
  let ended: Error | undefined;
  const end = (error: Error): void => {
    ended ??= error;
    for (const waiter of waiting.splice(0)) waiter.reject(error);
  };
  worker.on("message", (message: WorkerMessage) => {
    const waiter = waiting.shift();
    if (waiter === undefined) queue.push(message);
    else waiter.resolve(message);
  });
  worker.on("error", (error) => end(new Error(`load worker crashed: ${describe(error)}`)));
  worker.on("exit", (code) => end(new Error(`load worker exited (code ${code})`)));
  return () => {
    const queued = queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (ended !== undefined) return Promise.reject(ended);
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export interface StoreReport {
  readonly store: StoreName;
  readonly pass: boolean;
  readonly failures: string[];
  readonly [field: string]: unknown;
}

async function soakOne(name: StoreName, options: SoakOptions): Promise<StoreReport> {
  const soakStore = await openSoakStore(name, options);
  const appErrors: Record<string, number> = {};
  const nonRetryable: string[] = [];
  const app = createApp({
    store: soakStore.store,
    secret: randomBytes(32).toString("base64url"),
    onError(error) {
      const code = isSessionError(error) ? error.code : "NOT_A_SESSION_ERROR";
      appErrors[code] = (appErrors[code] ?? 0) + 1;
      if (!(isSessionError(error) && error.retryable) && nonRetryable.length < 10) {
        nonRetryable.push(describe(error));
      }
    },
  });
  let worker: Worker | undefined;
  try {
    const listening = await app.listen();
    // listen() answers http://localhost:<port>; the server is on 127.0.0.1 only.
    const baseUrl = listening.replace("//localhost:", "//127.0.0.1:");
    const loadConfig: LoadConfig = {
      baseUrl,
      clients: options.clients,
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      itemsPerSession: options.itemsPerSession,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    };
    worker = startLoadWorker(loadConfig);
    const next = messagesOf(worker);
    const budget = options.warmupMs + options.durationMs + 10 * REQUEST_TIMEOUT_MS;

    const warm = await withDeadline(next(), budget, "warm-up");
    if (warm.type !== "warm") throw new Error(`load worker: ${JSON.stringify(warm)}`);
    const baseline = await collect();

    const startAt = Date.now() + 100;
    worker.postMessage({ type: "go", startAt } satisfies DriverMessage);
    let faultStart = Number.POSITIVE_INFINITY;
    let faultEnd = Number.POSITIVE_INFINITY;
    const faultRun = (async () => {
      await sleep(startAt + options.faultFrom * options.durationMs - Date.now());
      faultStart = Date.now();
      await soakStore.injectFault((options.faultTo - options.faultFrom) * options.durationMs);
      await sleep(startAt + options.faultTo * options.durationMs - Date.now());
      faultEnd = await soakStore.healFault();
    })();

    let message: WorkerMessage;
    try {
      message = await withDeadline(next(), budget, "the run");
    } finally {
      await soakStore.healFault();
      await faultRun.catch((error: unknown) => processErrors.push(`fault: ${describe(error)}`));
    }
    if (message.type !== "result") throw new Error(`load worker: ${JSON.stringify(message)}`);
    const report = analyse(name, soakStore, options, message.result, faultStart, faultEnd);
    await worker.terminate();
    worker = undefined;
    // Drop the run's records before measuring: only the app and the store remain.
    message = { type: "warm" };

    const after = await collect();
    const growthMb = mb(after.heapUsed - baseline.heapUsed);
    const failures = [...report.failures];
    if (globalThis.gc === undefined)
      failures.push("memory: run with --expose-gc to measure the heap");
    else if (growthMb > options.heapLimitMb) {
      failures.push(`memory: heapUsed grew ${growthMb} MB (limit ${options.heapLimitMb} MB)`);
    }
    if (nonRetryable.length > 0)
      failures.push(`app errors behind a 500: ${nonRetryable.join("; ")}`);
    if (processErrors.length > 0) failures.push(...processErrors.splice(0));
    return {
      ...report.fields,
      heapMb: {
        baseline: mb(baseline.heapUsed),
        after: mb(after.heapUsed),
        growth: growthMb,
        limit: options.heapLimitMb,
      },
      rssMb: { baseline: mb(baseline.rss), after: mb(after.rss) },
      appErrors,
      store: name,
      pass: failures.length === 0,
      failures,
    };
  } finally {
    await worker?.terminate();
    await app.close();
    await soakStore.close();
  }
}

function analyse(
  name: StoreName,
  soakStore: SoakStore,
  options: SoakOptions,
  result: LoadResult,
  faultStart: number,
  faultEnd: number,
): { fields: Record<string, unknown>; failures: string[] } {
  const failures: string[] = [];
  const bound = soakStore.latencyBoundMs;
  // A request that started before the heal may still fail up to `bound` later.
  const touchedByFault = (startedAt: number, endedAt: number) =>
    endedAt >= faultStart && startedAt < faultEnd + bound;

  let ok = 0;
  let failedDuringFault = 0;
  let failedOutsideFault = 0;
  let unexpected = 0;
  let okAfterHeal = 0;
  let lastFailureEnd = faultEnd;
  const latencies: number[] = [];
  const addLatencies: number[] = [];
  for (const record of result.records) {
    latencies.push(record.latencyMs);
    if (record.kind === "add") addLatencies.push(record.latencyMs);
    if (record.outcome === "ok") {
      ok++;
      if (record.startedAt > faultEnd) okAfterHeal++;
      continue;
    }
    lastFailureEnd = Math.max(lastFailureEnd, record.endedAt);
    if (record.outcome === "unexpected") unexpected++;
    else if (touchedByFault(record.startedAt, record.endedAt)) failedDuringFault++;
    else failedOutsideFault++;
  }
  const maxLatency = latencies.reduce((max, value) => Math.max(max, value), 0);
  const maxByKind: Record<string, number> = {};
  for (const record of result.records) {
    maxByKind[record.kind] = Math.max(maxByKind[record.kind] ?? 0, Math.round(record.latencyMs));
  }
  const slowest = result.records.find((record) => record.latencyMs === maxLatency);

  // 1. Zero lost acknowledged writes.
  if (result.lost.length > 0) {
    const sample = result.lost
      .slice(0, 5)
      .map((write) => `${write.item}`)
      .join(", ");
    failures.push(`lost ${result.lost.length} acknowledged cart writes (e.g. ${sample})`);
  }
  // 2. Failures were bare 503s, in time.
  if (unexpected > 0) {
    failures.push(`${unexpected} unexpected answers: ${result.unexpected.slice(0, 5).join(" | ")}`);
  }
  // A failing request must give up within the store's bound. Sign-ins are left
  // out: their time includes the queue for scrypt on libuv's 4 threads, which
  // is CPU, not the store (every request is still bounded by REQUEST_TIMEOUT_MS).
  const slowFailures = result.records.filter(
    (record) => record.outcome !== "ok" && record.kind !== "login" && record.latencyMs > bound,
  );
  const maxFailureLatency = result.records.reduce(
    (max, record) => (record.outcome === "ok" ? max : Math.max(max, record.latencyMs)),
    0,
  );
  if (slowFailures.length > 0) {
    const worst = Math.round(Math.max(...slowFailures.map((record) => record.latencyMs)));
    failures.push(
      `${slowFailures.length} failing requests took longer than ${bound} ms (worst ${worst} ms)`,
    );
  }
  if (failedDuringFault === 0) failures.push("the fault caused no 503: it was not injected");
  // 3. Recovery.
  if (failedOutsideFault > 0) {
    failures.push(
      `${failedOutsideFault} requests failed outside the fault (+${bound} ms after the heal)`,
    );
  }
  if (okAfterHeal === 0) failures.push("no request succeeded after the fault healed");
  if (result.verifyFailures.length > 0) {
    failures.push(`reading the sessions back: ${result.verifyFailures.slice(0, 5).join("; ")}`);
  }
  // 5. (worker side)
  failures.push(...result.workerErrors);

  return {
    failures,
    fields: {
      fault: soakStore.fault,
      clients: options.clients,
      durationMs: options.durationMs,
      faultMs: Math.round(faultEnd - faultStart),
      requests: result.records.length,
      ok,
      okPerSecond: round1(ok / (options.durationMs / 1_000)),
      acknowledged: result.acknowledged,
      failedDuringFault,
      failedButApplied: result.failedButApplied,
      lost: result.lost.length,
      unexpected,
      sessionsVerified: result.sessionsVerified,
      recoveryMs: Math.round(lastFailureEnd - faultEnd),
      latencyMs: {
        p50: round1(quantile(latencies, 0.5)),
        p99: round1(quantile(latencies, 0.99)),
        max: round1(maxLatency),
        maxFailed: round1(maxFailureLatency),
        addP99: round1(quantile(addLatencies, 0.99)),
        bound,
        maxByKind,
        slowest:
          slowest === undefined
            ? null
            : {
                kind: slowest.kind,
                outcome: slowest.outcome,
                startedMsAfterFaultStart: slowest.startedAt - faultStart,
                endedMsAfterHeal: slowest.endedAt - faultEnd,
              },
      },
      store: name,
    },
  };
}

async function main(): Promise<number> {
  let options: SoakOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(describe(error).replace(/^Error: /, ""));
    return 2;
  }
  if (globalThis.gc === undefined) {
    console.error("soak: run with node --expose-gc, or the heap cannot be measured");
  }
  let failed = false;
  for (const name of options.stores) {
    let report: StoreReport;
    try {
      report = await soakOne(name, options);
    } catch (error) {
      report = { store: name, pass: false, failures: [`run failed: ${describe(error)}`] };
    }
    failed ||= !report.pass;
    process.stdout.write(`${JSON.stringify(report)}\n`);
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
