import { describe, expect, it } from "vitest";
import { frameworkChart } from "../src/chart.js";
import type { HttpResult } from "../src/report.js";

const result = (app: string, fields: Partial<HttpResult>): HttpResult => ({
  type: "http",
  app,
  comparison: "express/memory",
  framework: "express",
  store: "memory",
  sessions: "sessionkit",
  route: "read",
  connections: 64,
  reqPerSec: 1000,
  reqPerSecMin: 900,
  reqPerSecMax: 1100,
  repetitions: [900, 1000, 1100],
  p50Ms: 1,
  p99Ms: 2,
  errors: 0,
  non2xx: 0,
  ...fields,
});

const run = {
  mode: "quick",
  measured: "dist",
  date: "2026-01-02",
  repetitions: 3,
  loadAtStart: [0.5, 0.4, 0.3],
  loadAtEnd: [0.6, 0.5, 0.4],
} as const;

describe("frameworkChart(framework, results, run)", () => {
  const results = [
    result("express + sessionkit/memory", {}),
    result("express + express-session/memory", { sessions: "express-session", peer: "memory" }),
    result("express + no session", { sessions: "none", store: "none", ceiling: "sync" }),
    result("express + sessionkit/memory", { route: "write", reqPerSec: 800 }),
  ];
  const svg = frameworkChart("express", results, run);

  it("frameworkChart() draws one bar per result, with its figures in the bar's title", () => {
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="13"/g)).toHaveLength(4);
    expect(svg).toContain(
      "<title>express + sessionkit/memory write: 800 req/s (min 900, max 1100)</title>",
    );
  });

  it("frameworkChart() draws a panel per route and marks an app missing from a route", () => {
    expect(svg).toContain("GET /read (unchanged session)");
    expect(svg).toContain("POST /write (changed session)");
    expect(svg.match(/>not measured</g)).toHaveLength(2);
  });

  it("frameworkChart() names the run in its subtitle", () => {
    expect(svg).toContain(
      "pnpm bench --quick on 2026-01-02, built packages (dist), load average 0.50 0.40 0.30 at start, 0.60 0.50 0.40 at end.",
    );
  });

  it("frameworkChart() labels the calibration app apart from the async ceiling", () => {
    const ceiling = {
      framework: "node:http",
      sessions: "none",
      store: "none",
      ceiling: "async",
    } as const;
    const chart = frameworkChart(
      "node:http",
      [
        result("node:http + no session, one await", { ...ceiling, comparison: "node:http/memory" }),
        result("node:http + no session, one await + 10 µs of work", {
          ...ceiling,
          comparison: "node:http/memory",
          workMicros: 10,
        }),
      ],
      run,
    );
    expect(chart).toContain(">no session, one await + 10 µs of work<");
    expect(chart.match(/>no session, one await</g)).toHaveLength(1);
  });

  it("frameworkChart() escapes text for XML", () => {
    const escaped = frameworkChart(
      "express",
      [result("express + sessionkit/memory", { app: 'a<b & "c"' })],
      run,
    );
    expect(escaped).toContain("<title>a&lt;b &amp; &quot;c&quot; read:");
    expect(escaped).not.toContain('a<b & "c"');
  });
});
