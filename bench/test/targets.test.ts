import { describe, expect, it } from "vitest";
import type { CoreCpuResult } from "../src/core-cpu.js";
import {
  type HttpResult,
  httpCalibrations,
  httpTargets,
  needed,
  repeatedTarget,
  type StoreResult,
  storeTargets,
  uncountedRepetitions,
} from "../src/report.js";

function app(
  fields: Partial<HttpResult> & Pick<HttpResult, "app" | "framework" | "sessions" | "store">,
  repetitions: number[],
): HttpResult {
  return {
    type: "http",
    comparison: `${fields.framework}/memory`,
    route: "read",
    connections: 64,
    reqPerSec: 0,
    reqPerSecMin: 0,
    reqPerSecMax: 0,
    p50Ms: 1,
    p99Ms: 2,
    errors: 0,
    non2xx: 0,
    repetitions,
    ...fields,
  };
}

const expressSessionkit = (repetitions: number[]) =>
  app(
    {
      app: "express + sessionkit/memory",
      framework: "express",
      sessions: "sessionkit",
      store: "memory",
    },
    repetitions,
  );
const expressPeer = (repetitions: number[], comparison = "express/memory") =>
  app(
    {
      app: "express + express-session/memory",
      framework: "express",
      sessions: "express-session",
      store: "memory",
      peer: "memory",
      comparison,
    },
    repetitions,
  );

describe("needed(repetitions)", () => {
  it("needed(n) is 80 % of the repetitions, rounded up", () => {
    expect([needed(5), needed(3), needed(10), needed(2)]).toEqual([4, 3, 8, 2]);
  });
});

describe("repeatedTarget(target, values, comparison, threshold, unit)", () => {
  it("repeatedTarget() is met when the ratio holds in 4 of 5 repetitions", () => {
    const target = repeatedTarget("t", [1.3, 1.25, 1.1, 1.21, 1.4], ">=", 1.2, "×");
    expect(target).toMatchObject({ ratio: 1.25, min: 1.1, max: 1.4, holds: 4, repetitions: 5 });
    expect(target.pass).toBe(true);
  });

  it("repeatedTarget() is not met when the ratio holds in 3 of 5 repetitions", () => {
    const target = repeatedTarget("t", [1.3, 1.1, 1.1, 1.21, 1.4], ">=", 1.2, "×");
    expect(target).toMatchObject({ ratio: 1.21, holds: 3, repetitions: 5, pass: false });
  });

  it("repeatedTarget() with <= counts the repetitions at or under the threshold", () => {
    const target = repeatedTarget("t", [7.9, 8, 8.1, 7.5, 9], "<=", 8, "µs");
    expect(target).toMatchObject({ ratio: 8, holds: 3, pass: false, unit: "µs" });
  });

  it("repeatedTarget() with no repetitions is not met", () => {
    expect(repeatedTarget("t", [], ">=", 1, "×").pass).toBe(false);
  });
});

describe("httpTargets(http, core)", () => {
  it("httpTargets() pairs the two apps repetition by repetition, not their medians", () => {
    // Medians 1200 / 1000 = 1.2 would pass; paired ratios 1.2, 1.0, 1.3, 0.9, 1.25 hold in 3 of 5.
    const [target] = httpTargets(
      [
        expressSessionkit([1200, 1000, 1300, 900, 1250]),
        expressPeer([1000, 1000, 1000, 1000, 1000]),
      ],
      [],
    );
    expect(target).toMatchObject({
      target: "Express: sessionkit/memory ÷ express-session MemoryStore",
      route: "read",
      ratio: 1.2,
      min: 0.9,
      max: 1.3,
      holds: 3,
      repetitions: 5,
      threshold: 1.2,
      pass: false,
    });
  });

  it("httpTargets() leaves out a pair measured in different comparisons", () => {
    const targets = httpTargets(
      [expressSessionkit([1300, 1300]), expressPeer([1000, 1000], "express/other")],
      [],
    );
    expect(targets).toEqual([]);
  });

  const nodeHttp = (sessionkit: number[], ceiling: number[], ceilingShares?: number[]) =>
    httpTargets(
      [
        app(
          {
            app: "node:http + sessionkit/memory",
            framework: "node:http",
            sessions: "sessionkit",
            store: "memory",
          },
          sessionkit,
        ),
        app(
          {
            app: "node:http + no session, one await",
            framework: "node:http",
            sessions: "none",
            store: "none",
            ceiling: "async",
            ...(ceilingShares === undefined ? {} : { serverCpuShares: ceilingShares }),
          },
          ceiling,
        ),
      ],
      [],
    );

  it("httpTargets() pairs each Redis peer with sessionkit on the same client library: connect-redis 9 with node-redis, connect-redis 8 with ioredis", () => {
    const redis = (
      fields: Partial<HttpResult> & Pick<HttpResult, "app" | "sessions">,
      rate: number,
    ) =>
      app({ framework: "express", store: "redis", comparison: "express/redis", ...fields }, [
        rate,
        rate,
        rate,
      ]);
    const targets = httpTargets(
      [
        redis({ app: "express + sessionkit/redis", sessions: "sessionkit" }, 1000),
        redis(
          {
            app: "express + sessionkit/redis (node-redis)",
            sessions: "sessionkit",
            redisClient: "node-redis",
          },
          1500,
        ),
        redis({ app: "cr9", sessions: "express-session", peer: "connect-redis@9" }, 1000),
        redis({ app: "cr8", sessions: "express-session", peer: "connect-redis@8" }, 800),
      ],
      [],
    );
    expect(targets.map(({ target, ratio }) => [target, ratio])).toEqual([
      ["Express: sessionkit/redis (node-redis) ÷ express-session + connect-redis 9", 1.5],
      ["Express: sessionkit/redis ÷ express-session + connect-redis 8", 1.25],
    ]);
  });

  it("httpTargets() computes node:http's added cost as 1/rate − 1/ceiling rate in µs", () => {
    const [target] = nodeHttp([10_000, 40_000], [20_000, 50_000], [1, 0.98]);
    // 100 − 50 = 50 µs, and 25 − 20 = 5 µs.
    expect(target).toMatchObject({ min: 5, max: 50, holds: 1, repetitions: 2, unit: "µs" });
    expect(target?.invalid).toBeUndefined();
    expect(target?.pass).toBe(false);
  });

  it("httpTargets() counts no node:http repetition whose ceiling was not server-bound", () => {
    // 25 − 20 = 5 µs in all five, but the load generator held the ceiling back in two.
    const five = (rate: number) => [rate, rate, rate, rate, rate];
    const [held] = nodeHttp(five(40_000), five(50_000), [1, 0.95, 0.6, 0.92, 0.89]);
    expect(held).toMatchObject({ ratio: 5, holds: 3, invalid: 2, repetitions: 5, pass: false });
    const [bound] = nodeHttp(five(40_000), five(50_000), [1, 0.95, 0.91, 0.92, 0.89]);
    expect(bound).toMatchObject({ holds: 4, invalid: 1, pass: true });
    // Figures from before the server's CPU time was measured cannot show a bound ceiling.
    const [unknown] = nodeHttp(five(40_000), five(50_000));
    expect(unknown).toMatchObject({ holds: 0, invalid: 5, pass: false });
  });

  it("uncountedRepetitions() counts each route's left-out repetitions once, however many targets leave them out", () => {
    const five = (rate: number) => [rate, rate, rate, rate, rate];
    const read = nodeHttp(five(40_000), five(50_000), [1, 0.95, 0.6, 0.92, 0.89]);
    expect(read.map((target) => target.invalid)).toContain(2);
    const write = read.map((target) => ({ ...target, route: "write" as const, invalid: 1 }));
    const bound = nodeHttp(five(40_000), five(50_000), [1, 1, 1, 1, 1]);
    expect(uncountedRepetitions([...read, ...read, ...write, ...storeTargets([])])).toBe(3);
    expect(uncountedRepetitions(read)).toBe(2);
    expect(uncountedRepetitions(bound)).toBe(0);
  });

  it("httpTargets() also gives node:http's added server CPU per request, paired by repetition", () => {
    const withCpu = (fields: Partial<HttpResult>, cpu: number[]) =>
      app(
        {
          app: "x",
          framework: "node:http",
          sessions: "none",
          store: "none",
          ...fields,
          serverCpuMicrosPerRequests: cpu,
        },
        cpu.map(() => 1000),
      );
    const targets = httpTargets(
      [
        withCpu({ sessions: "sessionkit", store: "memory" }, [30, 45, 38]),
        withCpu({ ceiling: "async", serverCpuShares: [1, 0.95, 0.9] }, [25, 25, 27]),
      ],
      [],
    );
    const cpu = targets.find((t) => t.target.includes("server CPU per request"));
    // 5, 20 and 11 µs: holds once.
    expect(cpu).toMatchObject({
      ratio: 11,
      min: 5,
      max: 20,
      holds: 1,
      repetitions: 3,
      pass: false,
    });
    expect(cpu?.invalid).toBeUndefined();
  });

  it("httpTargets() counts no node:http CPU repetition whose ceiling was not server-bound either", () => {
    // An idling ceiling's server spends more CPU per request, which shrinks the difference.
    const withCpu = (fields: Partial<HttpResult>, cpu: number[]) =>
      app(
        { app: "x", framework: "node:http", sessions: "none", store: "none", ...fields },
        cpu.map(() => 1000),
      );
    const [, cpu] = httpTargets(
      [
        withCpu(
          { sessions: "sessionkit", store: "memory", serverCpuMicrosPerRequests: [30, 30, 30] },
          [30, 30, 30],
        ),
        withCpu(
          {
            ceiling: "async",
            serverCpuMicrosPerRequests: [25, 25, 25],
            serverCpuShares: [0.8, 0.95, 0.7],
          },
          [25, 25, 25],
        ),
      ],
      [],
    );
    // 5 µs in all three, but only the second ceiling was server-bound.
    expect(cpu).toMatchObject({ ratio: 5, holds: 1, invalid: 2, repetitions: 3, pass: false });
  });

  /** A node:http app with req/s and server CPU per request for each repetition. */
  const measured = (fields: Partial<HttpResult>, rates: number[], cpu: number[]) =>
    app(
      {
        app: "node:http + no session, one await",
        framework: "node:http",
        sessions: "none",
        store: "none",
        serverCpuShares: rates.map(() => 1),
        serverCpuMicrosPerRequests: cpu,
        ...fields,
      },
      rates,
    );
  const sessionkitMemory = {
    app: "node:http + sessionkit/memory",
    sessions: "sessionkit",
    store: "memory",
  } as const;
  const calibration = (rates: number[], cpu: number[], fields: Partial<HttpResult> = {}) =>
    measured(
      {
        app: "node:http + no session, one await + 10 µs of work",
        ceiling: "async",
        workMicros: 10,
        ...fields,
      },
      rates,
      cpu,
    );

  it("httpTargets() measures node:http against the plain async ceiling, never the calibration app", () => {
    const targets = httpTargets(
      [
        // Listed first: a finder that only checked `ceiling` would take it.
        calibration([25_000, 25_000], [40, 40]),
        measured({ sessions: "sessionkit", store: "memory" }, [40_000, 40_000], [30, 30]),
        measured({ ceiling: "async" }, [50_000, 50_000], [25, 25]),
      ],
      [],
    );
    const [formula, cpu] = targets;
    // 25 − 20 = 5 µs (against the calibration app it would be 25 − 40 = −15 µs).
    expect(formula).toMatchObject({ ratio: 5, holds: 2, pass: true });
    expect(cpu).toMatchObject({ ratio: 5, holds: 2, pass: true });
  });

  it("httpCalibrations() gives the calibration app's cost over its comparison's async ceiling by both figures", () => {
    const [line, ...rest] = httpCalibrations([
      measured({ ceiling: "async" }, [50_000, 40_000, 50_000], [25, 27, 26]),
      calibration([25_000, 25_000, 20_000], [40, 45, 37], { workMicrosPerRequests: [8, 9, 8.5] }),
    ]);
    expect(rest).toEqual([]);
    // Formula: 40 − 20 = 20, 40 − 25 = 15, 50 − 20 = 30 µs. CPU: 15, 18, 11 µs.
    expect(line).toEqual({
      type: "calibration",
      app: "node:http + no session, one await + 10 µs of work",
      route: "read",
      workMicros: 10,
      workTimed: { median: 8.5, min: 8, max: 9 },
      formula: { median: 20, min: 15, max: 30 },
      cpu: { median: 15, min: 11, max: 18 },
    });
  });

  it("httpCalibrations() adds sessionkit/memory's row and the system CPU part, in the results' order", () => {
    const lines = httpCalibrations([
      measured(
        { ...sessionkitMemory, serverSystemMicrosPerRequests: [12, 15, 14] },
        [40_000, 20_000, 25_000],
        [30, 50, 45],
      ),
      measured(
        { ceiling: "async", serverSystemMicrosPerRequests: [9, 10, 9] },
        [50_000, 40_000, 50_000],
        [25, 27, 26],
      ),
      calibration([25_000, 25_000, 20_000], [40, 45, 37], {
        serverSystemMicrosPerRequests: [15, 16, 15],
      }),
    ]);
    expect(lines.map((line) => line.app)).toEqual([
      "node:http + sessionkit/memory",
      "node:http + no session, one await + 10 µs of work",
    ]);
    // Formula: 25 − 20 = 5, 50 − 25 = 25, 40 − 20 = 20 µs. CPU: 5, 23, 19 µs. System: 3, 5, 5 µs.
    expect(lines[0]).toEqual({
      type: "calibration",
      app: "node:http + sessionkit/memory",
      route: "read",
      formula: { median: 20, min: 5, max: 25 },
      cpu: { median: 19, min: 5, max: 23 },
      system: { median: 5, min: 3, max: 5 },
    });
    expect(lines[1]).toMatchObject({ workMicros: 10, system: { median: 6, min: 6, max: 6 } });
  });

  it("httpCalibrations() gives the hand-written floor a row of its own, and no node:http target", () => {
    const floor = {
      app: "node:http + hand-written floor/memory",
      sessions: "floor",
      store: "memory",
    } as const;
    const results = [
      measured(sessionkitMemory, [40_000, 20_000], [30, 50]),
      measured(floor, [45_000, 40_000], [28, 30]),
      measured({ ceiling: "async" }, [50_000, 40_000], [25, 27]),
      calibration([25_000, 25_000], [40, 45]),
    ];
    const lines = httpCalibrations(results);
    expect(lines.map((line) => line.app)).toEqual([
      "node:http + sessionkit/memory",
      "node:http + hand-written floor/memory",
      "node:http + no session, one await + 10 µs of work",
    ]);
    // Formula: 22.2 − 20 = 2.2, 25 − 25 = 0 µs. CPU: 3, 3 µs.
    expect(lines[1]?.formula.min).toBeCloseTo(0, 5);
    expect(lines[1]?.formula.max).toBeCloseTo(2.222, 3);
    expect(lines[1]?.cpu).toEqual({ median: 3, min: 3, max: 3 });
    // The targets stay sessionkit's: 25 − 20 = 5 and 50 − 25 = 25 µs.
    const [formula] = httpTargets(results, []);
    expect(formula).toMatchObject({ min: 5, max: 25 });
  });

  it("httpCalibrations() gives sessionkit/memory no row where no calibration app was measured", () => {
    expect(
      httpCalibrations([
        measured(sessionkitMemory, [40_000], [30]),
        measured({ ceiling: "async" }, [50_000], [25]),
        calibration([25_000], [40], { route: "write" }),
      ]),
    ).toEqual([]);
  });

  it("httpCalibrations() gives nothing for a calibration app without an async ceiling measured next to it", () => {
    const async = { ceiling: "async" } as const;
    const ceilingElsewhere = measured({ ...async, comparison: "node:http/other" }, [50_000], [25]);
    const syncCeiling = measured({ ceiling: "sync" }, [50_000], [25]);
    const otherRoute = measured({ ...async, route: "write" }, [50_000], [25]);
    expect(
      httpCalibrations([ceilingElsewhere, syncCeiling, otherRoute, calibration([25_000], [40])]),
    ).toEqual([]);
  });

  it("repeatedTarget() with validity flags counts only valid repetitions as holding", () => {
    const target = repeatedTarget("t", [1, 1, 1], "<=", 2, "µs", [true, false, true]);
    expect(target).toMatchObject({ holds: 2, invalid: 1, pass: false });
  });

  it("httpTargets() holds core CPU to 8 µs unchanged and 10 µs changed", () => {
    const core = (cycle: CoreCpuResult["cycle"]): CoreCpuResult => ({
      cycle,
      iterations: 5,
      cpuMicrosPerCycle: 9,
      cpuMicrosPerCycleMin: 9,
      cpuMicrosPerCycleMax: 9,
      repetitions: [9, 9, 9, 9, 9],
      wallMicrosPerCycle: 9,
    });
    const targets = httpTargets(
      [],
      [core("unchanged"), core("changed"), core("changed, zod schema, checkWrites")],
    );
    // The checkWrites cycle is shown in the core table, not held to a budget.
    expect(targets.map((t) => [t.threshold, t.pass])).toEqual([
      [8, false],
      [10, true],
    ]);
  });
});

describe("storeTargets(store)", () => {
  const result = (
    subject: string,
    kind: StoreResult["kind"],
    op: StoreResult["op"],
    opsPerSec: number,
  ): StoreResult => ({
    type: "store",
    backend: "redis",
    subject,
    kind,
    op,
    concurrency: 64,
    roundTrips: 1,
    serverCommands: 1,
    opsPerSec,
    opsPerSecMin: opsPerSec,
    opsPerSecMax: opsPerSec,
    p50Ms: 1,
    p99Ms: 2,
    runs: 5,
    opsPerRun: 1_000,
  });

  it("storeTargets() holds connect-redis 9 against sessionkit on node-redis and the rest against sessionkit on ioredis", () => {
    const targets = storeTargets([
      result("sessionkit", "sessionkit", "unchanged", 1_000),
      result("sessionkit", "sessionkit", "changed", 500),
      result("sessionkit (node-redis)", "sessionkit", "unchanged", 2_000),
      result("sessionkit (node-redis)", "sessionkit", "changed", 900),
      result("connect-redis@8", "peer", "unchanged", 500),
      result("connect-redis@9", "peer", "unchanged", 1_000),
      result("raw ioredis", "raw", "changed", 1_000),
    ]);
    expect(targets.map(({ target, ratio }) => [target, ratio])).toEqual([
      ["redis: changed cycle c64, sessionkit / raw client", 0.5],
      ["redis: unchanged cycle c64, sessionkit / connect-redis@8", 2],
      ["redis: unchanged cycle c64, sessionkit (node-redis) / connect-redis@9", 2],
    ]);
  });
});
