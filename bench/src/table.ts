import { readFileSync } from "node:fs";
import type { CoreCpuResult } from "./core-cpu.js";
import type { InProcessResult } from "./in-process.js";
import {
  type CalibrationResult,
  type ComparisonResult,
  type HttpResult,
  inProcessRows,
  type Spread,
  type StoreResult,
  type TargetResult,
} from "./report.js";
import { median } from "./workload.js";

/**
 * Renders the JSON lines of one run (stdin) as the Markdown tables of
 * BENCHMARKS.md: `node --import tsx src/table.ts < results.jsonl`.
 */
const lines = readFileSync(0, "utf8")
  .split("\n")
  .filter((line) => line.startsWith("{"))
  .map((line) => JSON.parse(line) as { type: string } & Record<string, unknown>);

const meta = Object.assign({}, ...lines.filter((l) => l.type === "meta")) as Record<
  string,
  unknown
>;
const load = (value: unknown) => (Array.isArray(value) ? value.join(" ") : String(value));
const header = [
  `Run: ${meta.mode === "quick" ? "`pnpm bench --quick`" : "`pnpm bench`"}`,
  meta.measured === "dist" ? "built packages (dist)" : "TypeScript sources (dev-source)",
  `${meta.httpRepetitions ?? "?"} interleaved repetitions`,
  `load average ${load(meta.loadAverageAtStart ?? meta.loadAverage)} at start, ${load(meta.loadAverageAtEnd)} at end`,
  `Node ${meta.node}, ${meta.nproc} cores (${meta.cpu})`,
  typeof meta.measuredCpu === "number"
    ? `measured processes pinned to CPU ${meta.measuredCpu}, the load generator to the others`
    : "not pinned to cores",
  ...(typeof meta.referenceNanosAtStart === "number"
    ? [
        `the measured core's reference loop at ${meta.referenceNanosAtStart} ns per iteration at start, ${meta.referenceNanosAtEnd ?? "?"} at end`,
      ]
    : []),
  ...(typeof meta.loadGeneratorNodeVersion === "string"
    ? [`the load generator in its own process on Node ${meta.loadGeneratorNodeVersion}`]
    : []),
];
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toPrecision(3));
const out: string[] = [`${header.join("; ")}.`, ""];
const row = (cells: unknown[]) => out.push(`| ${cells.join(" | ")} |`);
/** A table's header row and its separator. */
const columns = (names: readonly string[]) => {
  row([...names]);
  row(names.map(() => "---"));
};

const store = lines.filter((l) => l.type === "store") as unknown as StoreResult[];
out.push("### Store operations and request cycles", "");
columns([
  "backend",
  "subject",
  "op",
  "conc.",
  "ops/s (median)",
  "min–max",
  "p50 ms",
  "p99 ms",
  "round trips",
  "server cmds",
]);
for (const r of store) {
  row([
    r.backend,
    r.subject,
    r.op,
    r.concurrency,
    fmt(r.opsPerSec),
    `${fmt(r.opsPerSecMin)}–${fmt(r.opsPerSecMax)}`,
    r.p50Ms.toFixed(3),
    r.p99Ms.toFixed(3),
    r.roundTrips,
    r.serverCommands,
  ]);
}

const http = lines.filter((l) => l.type === "http") as unknown as HttpResult[];
const interleaved = http.filter((r) => r.repetitions !== undefined);
out.push("", "### HTTP, 64 connections, each with its own session (interleaved repetitions)", "");
columns([
  "comparison",
  "app",
  "route",
  "req/s (median)",
  "min–max",
  "p50 ms",
  "p99 ms",
  "server CPU µs/req",
  "server busy",
  "errors",
  "non-2xx",
]);
const busy = (shares: readonly number[] | undefined) =>
  shares === undefined || shares.length === 0
    ? "—"
    : `${Math.round(Math.min(...shares) * 100)}–${Math.round(Math.max(...shares) * 100)} %`;
for (const r of interleaved) {
  row([
    r.comparison,
    r.app,
    r.route,
    fmt(r.reqPerSec),
    `${fmt(r.reqPerSecMin)}–${fmt(r.reqPerSecMax)}`,
    r.p50Ms,
    r.p99Ms,
    r.serverCpuMicrosPerRequests === undefined
      ? "—"
      : median(r.serverCpuMicrosPerRequests).toFixed(1),
    busy(r.serverCpuShares),
    r.errors,
    r.non2xx,
  ]);
}
const telemetry = http.filter((r) => r.repetitions === undefined);
if (telemetry.length > 0) {
  out.push("", "### HTTP, telemetry variants", "");
  columns(["app", "route", "req/s (median)", "min–max", "p50 ms", "p99 ms", "errors", "non-2xx"]);
  for (const r of telemetry) {
    row([
      r.app,
      r.route,
      fmt(r.reqPerSec),
      `${fmt(r.reqPerSecMin)}–${fmt(r.reqPerSecMax)}`,
      r.p50Ms,
      r.p99Ms,
      r.errors,
      r.non2xx,
    ]);
  }
}

const comparisons = lines.filter((l) => l.type === "comparison") as unknown as ComparisonResult[];
if (comparisons.length > 0) {
  out.push("", "### Load average (1, 5, 15 min) around each comparison", "");
  columns(["comparison", "route", "apps", "repetitions × s", "before", "after"]);
  for (const c of comparisons) {
    row([
      c.comparison,
      c.route,
      c.apps.length,
      `${c.repetitions} × ${c.secondsPerRun}`,
      c.loadBefore.join(" "),
      c.loadAfter.join(" "),
    ]);
  }
}

const core = lines.filter((l) => l.type === "core-cpu") as unknown as CoreCpuResult[];
out.push("", "### Core CPU per request cycle (memory store, no I/O)", "");
columns([
  "cycle",
  "CPU µs/cycle (median)",
  "min–max",
  "wall µs/cycle",
  "iterations",
  "reference loop ns/iteration",
  "allocated bytes/cycle (min–max)",
]);
for (const r of core) {
  row([
    r.cycle,
    r.cpuMicrosPerCycle,
    `${r.cpuMicrosPerCycleMin}–${r.cpuMicrosPerCycleMax}`,
    r.wallMicrosPerCycle,
    r.iterations,
    r.referenceNanosPerIteration ?? "—",
    r.bytesPerCycle === undefined
      ? "—"
      : `${r.bytesPerCycle} (${r.bytesPerCycleMin}–${r.bytesPerCycleMax})`,
  ]);
}

const num = (n: number, unit: TargetResult["unit"]) =>
  unit === "µs" ? `${n.toFixed(1)} µs` : `${n.toFixed(2)}×`;
/** A median with its min–max, as the targets and the calibration show them. */
const spreadText = (median: number, min: number, max: number, unit: TargetResult["unit"]) =>
  `${num(median, unit)} (${num(min, unit)}–${num(max, unit)})`;

const inProcess = inProcessRows(
  lines.filter((l) => l.type === "in-process") as unknown as InProcessResult[],
);
if (inProcess.length > 0) {
  out.push("", "### CPU per request in process, memory store (no sockets, no load generator)", "");
  columns([
    "comparison",
    "app",
    "route",
    "CPU µs/request (median)",
    "min–max",
    "over the one-await ceiling",
    "added ÷ sessionkit's added",
    "requests per block",
    "reference loop ns/iteration",
    "allocated KB/request (min–max)",
    "KB over the one-await ceiling",
  ]);
  const spread = (s: Spread | undefined, unit: TargetResult["unit"]) =>
    s === undefined ? "—" : spreadText(s.median, s.min, s.max, unit);
  const kb = (bytes: number) => (bytes / 1000).toFixed(1);
  for (const { result: r, overCeiling, peerOverSessionkit, bytesOverCeiling } of inProcess) {
    row([
      r.comparison,
      r.app,
      r.route,
      r.cpuMicrosPerRequest.toFixed(1),
      `${r.cpuMicrosPerRequestMin.toFixed(1)}–${r.cpuMicrosPerRequestMax.toFixed(1)}`,
      spread(overCeiling, "µs"),
      spread(peerOverSessionkit, "×"),
      r.requests,
      r.referenceNanosPerIteration,
      // Results of runs before the allocation figure have none.
      r.bytesPerRequest === undefined
        ? "—"
        : `${kb(r.bytesPerRequest)} (${kb(r.bytesPerRequestMin)}–${kb(r.bytesPerRequestMax)})`,
      bytesOverCeiling === undefined || Number.isNaN(bytesOverCeiling) ? "—" : kb(bytesOverCeiling),
    ]);
  }
}

const targets = lines.filter((l) => l.type === "target") as unknown as TargetResult[];
const repeated = targets.filter((t) => t.repetitions !== undefined);
out.push("", "### Targets (interleaved repetitions; met when the figure holds in 4 of 5)", "");
columns(["target", "route", "needed", "median (min–max)", "holds in", "met"]);
for (const t of repeated) {
  row([
    t.target,
    t.route ?? "—",
    `${t.comparison === ">=" ? "≥" : "≤"} ${num(t.threshold, t.unit)}`,
    spreadText(t.ratio, t.min ?? t.ratio, t.max ?? t.ratio, t.unit),
    `${t.holds} of ${t.repetitions}${t.invalid === undefined ? "" : ` (${t.invalid} not counted: ceiling not server-bound)`}`,
    t.pass ? "yes" : "no",
  ]);
}
const calibrations = lines.filter(
  (l) => l.type === "calibration",
) as unknown as CalibrationResult[];
if (calibrations.length > 0) {
  const spread = ({ median, min, max }: CalibrationResult["formula"]) =>
    spreadText(median, min, max, "µs");
  out.push(
    "",
    "### Calibration: a known cost through the node:http cost figures (not a target)",
    "",
  );
  columns([
    "app",
    "route",
    "known cost",
    "its work timed in the server",
    "1/rate − 1/ceiling rate",
    "server CPU over the ceiling's",
    "of which system CPU",
  ]);
  for (const c of calibrations) {
    row([
      c.app,
      c.route,
      c.workMicros === undefined ? "—" : num(c.workMicros, "µs"),
      c.workTimed === undefined ? "—" : spread(c.workTimed),
      spread(c.formula),
      spread(c.cpu),
      c.system === undefined ? "—" : spread(c.system),
    ]);
  }
}
const single = targets.filter((t) => t.repetitions === undefined);
if (single.length > 0) {
  out.push("", "### Store-level and telemetry targets (ratios within this run)", "");
  columns(["target", "measured", "needed", "result"]);
  for (const t of single) {
    row([
      t.target,
      t.ratio.toPrecision(3),
      `${t.comparison} ${t.threshold}`,
      t.pass ? "pass" : "**short**",
    ]);
  }
}
process.stdout.write(`${out.join("\n")}\n`);
