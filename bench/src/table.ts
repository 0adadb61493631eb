import { readFileSync } from "node:fs";
import type { HttpResult, StoreResult, TargetResult } from "./report.js";

/**
 * Renders the JSON lines of one run (stdin) as the Markdown tables of
 * BENCHMARKS.md: `node --import tsx src/table.ts < results.jsonl`.
 */
const lines = readFileSync(0, "utf8")
  .split("\n")
  .filter((line) => line.startsWith("{"))
  .map((line) => JSON.parse(line) as { type: string } & Record<string, unknown>);

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toPrecision(3));
const out: string[] = [];
const row = (cells: unknown[]) => out.push(`| ${cells.join(" | ")} |`);

const store = lines.filter((l) => l.type === "store") as unknown as StoreResult[];
out.push("### Store operations and request cycles", "");
row([
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
row(Array(10).fill("---"));
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
out.push("", "### HTTP, 64 connections, each with its own session", "");
row(["app", "route", "req/s (median)", "min–max", "p50 ms", "p99 ms", "errors", "non-2xx"]);
row(Array(8).fill("---"));
for (const r of http) {
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

const core = lines.filter((l) => l.type === "core-cpu");
out.push("", "### Core CPU per request cycle (memory store, no I/O)", "");
row(["cycle", "CPU µs/cycle", "wall µs/cycle", "iterations"]);
row(Array(4).fill("---"));
for (const r of core) row([r.cycle, r.cpuMicrosPerCycle, r.wallMicrosPerCycle, r.iterations]);

const targets = lines.filter((l) => l.type === "target") as unknown as TargetResult[];
out.push("", "### Targets (ratios within this run)", "");
row(["target", "measured", "needed", "result"]);
row(Array(4).fill("---"));
for (const t of targets) {
  row([
    t.target,
    t.ratio.toPrecision(3),
    `${t.comparison} ${t.threshold}`,
    t.pass ? "pass" : "**short**",
  ]);
}
process.stdout.write(`${out.join("\n")}\n`);
