import type { CoreCpuResult } from "./core-cpu.js";
import type { InProcessResult } from "./in-process.js";
import {
  type Backend,
  clientSuffix,
  peerClient,
  type RedisClientKind,
  type SubjectKind,
} from "./subject.js";
import { type Measurement, median, type OperationName } from "./workload.js";

export interface StoreResult extends Measurement {
  readonly type: "store";
  readonly backend: Backend;
  readonly subject: string;
  readonly kind: SubjectKind;
  readonly op: OperationName;
  readonly concurrency: number;
  /** Per operation, counted in a separate sequential window. */
  readonly roundTrips: number;
  readonly serverCommands: number;
}

export interface HttpResult {
  readonly type: "http";
  readonly app: string;
  /** The comparison whose apps were interleaved with this one. */
  readonly comparison: string;
  readonly framework: "node:http" | "express" | "fastify";
  /** `none` for the no-session ceilings. */
  readonly store: Backend | "none";
  readonly sessions: "sessionkit" | "express-session" | "@fastify/session" | "floor" | "none";
  readonly peer?: string;
  readonly ceiling?: "sync" | "async";
  /**
   * The calibration app's known cost: work sized to take this many µs per
   * request as timed where it runs (see {@link workMicrosPerRequests}).
   */
  readonly workMicros?: number;
  /**
   * The calibration app's work per request in each repetition as timed
   * around each call in the server, µs: what the sized work cost where it
   * ran, among the requests.
   */
  readonly workMicrosPerRequests?: readonly number[];
  readonly rolling?: boolean;
  /** sessionkit on Redis: the client library of its store; absent for ioredis. */
  readonly redisClient?: RedisClientKind;
  readonly route: "read" | "write";
  readonly connections: number;
  /** Median over the interleaved repetitions. */
  readonly reqPerSec: number;
  readonly reqPerSecMin: number;
  readonly reqPerSecMax: number;
  /** req/s of each repetition, in repetition order (the same order for every app of the comparison). */
  readonly repetitions?: readonly number[];
  /**
   * The server process's CPU time ÷ wall time in each repetition: near 1
   * when the server was the bottleneck, lower when the load generator was.
   */
  readonly serverCpuShares?: readonly number[];
  /** The server process's CPU time per request in each repetition, µs. */
  readonly serverCpuMicrosPerRequests?: readonly number[];
  /**
   * The part of {@link serverCpuMicrosPerRequests} the kernel spent on the
   * server's behalf (system CPU: sockets, and waking the load generator), µs.
   */
  readonly serverSystemMicrosPerRequests?: readonly number[];
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
}

/** One interleaved comparison: its apps, and the load average (1, 5, 15 min) before and after. */
export interface ComparisonResult {
  readonly type: "comparison";
  readonly comparison: string;
  readonly route: "read" | "write";
  readonly apps: readonly string[];
  readonly repetitions: number;
  readonly secondsPerRun: number;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
}

export interface TargetResult {
  readonly type: "target";
  readonly target: string;
  /** The median over the repetitions (a single figure for the store-level targets). */
  readonly ratio: number;
  readonly min?: number;
  readonly max?: number;
  /** Repetitions in which the figure meets the threshold, out of `repetitions`. */
  readonly holds?: number;
  readonly repetitions?: number;
  /** `×` for a ratio, `µs` for a cost. */
  readonly unit?: "×" | "µs";
  /** The HTTP route the figures come from. */
  readonly route?: "read" | "write";
  readonly threshold: number;
  /** `<=` for a ceiling (a cost), `>=` for a ratio. */
  readonly comparison: ">=" | "<=";
  /** Met: for repeated figures, in at least {@link needed} of the repetitions. */
  readonly pass: boolean;
  /**
   * Repetitions that cannot count as holding whatever their figure: for the
   * two node:http costs, those whose ceiling was not server-bound
   * ({@link SERVER_BOUND_SHARE}).
   */
  readonly invalid?: number;
}

/**
 * How many repetitions the targets left out as not server-bound, over all
 * routes: the two node:http cost targets of one route leave out the same
 * repetitions, so each route counts once.
 */
export function uncountedRepetitions(targets: readonly TargetResult[]): number {
  const byRoute = new Map<string | undefined, number>();
  for (const { route, invalid = 0 } of targets) {
    byRoute.set(route, Math.max(byRoute.get(route) ?? 0, invalid));
  }
  return [...byRoute.values()].reduce((sum, n) => sum + n, 0);
}

/** Median and spread of one figure over the repetitions. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/**
 * What the two node:http cost figures (the rate formula and the server CPU
 * difference) make of a known cost: an async ceiling that does work sized to
 * take `workMicros` of CPU per request, measured next to the plain one; and,
 * to be read against those, the same figures of sessionkit/memory, the
 * target's app (no `workMicros`).
 */
export interface CalibrationResult {
  readonly type: "calibration";
  readonly app: string;
  readonly route: "read" | "write";
  /** The calibration app's known cost, µs per request; absent for sessionkit's row. */
  readonly workMicros?: number;
  /** The calibration app's work as timed in the server during the repetitions, µs per request. */
  readonly workTimed?: Spread;
  /** 1/rate − 1/ceiling rate, µs, over the repetitions. */
  readonly formula: Spread;
  /** Server CPU per request minus the ceiling's, µs, over the repetitions. */
  readonly cpu: Spread;
  /** The system CPU part of {@link cpu}: the kernel's time per request minus the ceiling's, µs. */
  readonly system?: Spread;
}

export type Line =
  | StoreResult
  | HttpResult
  | ComparisonResult
  | TargetResult
  | CalibrationResult
  | ({ readonly type: "core-cpu" } & CoreCpuResult)
  | InProcessResult
  | { readonly type: "meta"; readonly [key: string]: unknown };

/** Repetitions a target must hold in to count as met: 4 of 5 (80 %, rounded up). */
export function needed(repetitions: number): number {
  return Math.ceil(repetitions * 0.8);
}

/**
 * A ceiling app (no sessions) whose server process was busy less than this
 * share of a run's wall time was held back by the load generator, not by its
 * own work: its rate then understates what the server can do, and a cost
 * computed against it understates the cost.
 */
export const SERVER_BOUND_SHARE = 0.9;

/** The median of `values`, with their min and max. */
const spread = (values: readonly number[]): Spread => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
});

/**
 * A target over paired repetitions: `values[r]` is the ratio (or cost) of
 * repetition r, computed from figures measured next to each other. When
 * `valid` is given, repetition r counts as holding only if `valid[r]`.
 */
export function repeatedTarget(
  target: string,
  values: readonly number[],
  comparison: ">=" | "<=",
  threshold: number,
  unit: "×" | "µs",
  valid?: readonly boolean[],
): TargetResult {
  const holds = values.filter(
    (v, r) =>
      (valid === undefined || valid[r] === true) &&
      (comparison === ">=" ? v >= threshold : v <= threshold),
  );
  const invalid = valid === undefined ? 0 : values.filter((_, r) => valid[r] !== true).length;
  const { median: ratio, min, max } = spread(values);
  return {
    type: "target",
    target,
    ratio,
    min,
    max,
    holds: holds.length,
    repetitions: values.length,
    unit,
    threshold,
    comparison,
    pass: values.length > 0 && holds.length >= needed(values.length),
    ...(invalid === 0 ? {} : { invalid }),
  };
}

/**
 * `figures` of `a` and `b` (req/s by default), repetition by repetition;
 * `undefined` unless both were measured, interleaved, in one comparison.
 */
function paired(
  a: HttpResult | undefined,
  b: HttpResult | undefined,
  figures: (r: HttpResult) => readonly number[] | undefined = (r) => r.repetitions,
): (readonly [number, number])[] | undefined {
  const first = a === undefined ? undefined : figures(a);
  const second = b === undefined ? undefined : figures(b);
  if (first === undefined || second === undefined) return undefined;
  if (a?.comparison !== b?.comparison || first.length !== second.length) return undefined;
  return first.map((value, r) => [value, second[r] as number] as const);
}

/** sessionkit on `store` in `framework`; on Redis, given `redisClient` (ioredis by default). */
const isSessionkit =
  (framework: HttpResult["framework"], store: Backend, redisClient: RedisClientKind = "ioredis") =>
  (r: HttpResult): boolean =>
    r.framework === framework &&
    r.sessions === "sessionkit" &&
    r.store === store &&
    (r.redisClient ?? "ioredis") === redisClient;

/** The no-session app answering after one await, and nothing else (not a calibration app). */
const isAsyncCeiling =
  (framework: HttpResult["framework"]) =>
  (r: HttpResult): boolean =>
    r.framework === framework && r.ceiling === "async" && r.workMicros === undefined;

/**
 * Each calibration app's cost over the async ceiling of its comparison, by
 * the node:http target's two figures, repetition by repetition: the cost a
 * server that does nothing but spend `workMicros` more CPU per request is
 * measured at; and the same figures of sessionkit/memory measured in the
 * same comparison, so its row reads against theirs. With the server's system
 * CPU, the kernel's part of each CPU difference.
 */
export function httpCalibrations(http: readonly HttpResult[]): CalibrationResult[] {
  const out: CalibrationResult[] = [];
  const calibrated = (r: HttpResult) =>
    r.workMicros !== undefined || isSessionkit("node:http", "memory")(r) || r.sessions === "floor";
  const hasCalibration = (r: HttpResult) =>
    http.some(
      (c) => c.workMicros !== undefined && c.comparison === r.comparison && c.route === r.route,
    );
  for (const app of http.filter((r) => calibrated(r) && hasCalibration(r))) {
    const ceiling = http.find(
      (r) =>
        r.route === app.route &&
        r.comparison === app.comparison &&
        isAsyncCeiling(app.framework)(r),
    );
    const rates = paired(app, ceiling);
    const cpu = paired(app, ceiling, (r) => r.serverCpuMicrosPerRequests);
    if (rates === undefined || cpu === undefined || rates.length === 0) continue;
    const system = paired(app, ceiling, (r) => r.serverSystemMicrosPerRequests);
    out.push({
      type: "calibration",
      app: app.app,
      route: app.route,
      ...(app.workMicros === undefined ? {} : { workMicros: app.workMicros }),
      ...(app.workMicrosPerRequests === undefined || app.workMicrosPerRequests.length === 0
        ? {}
        : { workTimed: spread(app.workMicrosPerRequests) }),
      formula: spread(rates.map(([rate, base]) => 1e6 / rate - 1e6 / base)),
      cpu: spread(cpu.map(([mine, base]) => mine - base)),
      ...(system === undefined
        ? {}
        : { system: spread(system.map(([mine, base]) => mine - base)) }),
    });
  }
  return out;
}

/**
 * The HTTP and core CPU targets, each from figures of one interleaved comparison,
 * repetition by repetition: Express sessionkit ≥ 1.2× express-session per
 * store kind, Fastify sessionkit ≥ 1.3× @fastify/session on memory and Redis,
 * node:http sessionkit's added cost over the async ceiling ≤ 10 µs per
 * request on memory, core CPU ≤ 8 µs (unchanged) and ≤ 10 µs (changed), with
 * and without a schema.
 */
export function httpTargets(
  http: readonly HttpResult[],
  core: readonly CoreCpuResult[],
): TargetResult[] {
  const targets: TargetResult[] = [];
  for (const route of ["read", "write"] as const) {
    const find = (p: (r: HttpResult) => boolean) => http.find((r) => r.route === route && p(r));
    const sessionkit = (
      framework: HttpResult["framework"],
      store: Backend,
      redisClient?: RedisClientKind,
    ) => find(isSessionkit(framework, store, redisClient));
    const ratio = (
      name: string,
      a: HttpResult | undefined,
      b: HttpResult | undefined,
      threshold: number,
    ) => {
      const pairs = paired(a, b);
      if (pairs === undefined) return;
      const values = pairs.map(([x, y]) => x / y);
      targets.push({ ...repeatedTarget(name, values, ">=", threshold, "×"), route });
    };
    // On Redis each peer is measured against sessionkit on the same client library.
    const named = (store: Backend, peer: string) =>
      `sessionkit/${store}${clientSuffix(peerClient(peer))}`;
    const expressPeers = [
      ["memory", "memory", "express-session MemoryStore"],
      ["redis", "connect-redis@9", "express-session + connect-redis 9"],
      ["redis", "connect-redis@8", "express-session + connect-redis 8"],
      ["postgres", "connect-pg-simple", "express-session + connect-pg-simple"],
      ["sqlite", "better-sqlite3-session-store", "express-session + better-sqlite3-session-store"],
    ] as const;
    for (const [store, peer, label] of expressPeers) {
      ratio(
        `Express: ${named(store, peer)} ÷ ${label}`,
        sessionkit("express", store, peerClient(peer)),
        find((r) => r.sessions === "express-session" && r.peer === peer),
        1.2,
      );
    }
    for (const [store, peer, label] of [
      ["memory", "memory", "@fastify/session (its memory store)"],
      ["redis", "connect-redis@9", "@fastify/session + connect-redis 9"],
    ] as const) {
      for (const rolling of [true, false]) {
        ratio(
          `Fastify: ${named(store, peer)} ÷ ${label}${rolling ? "" : ", rolling: false"}`,
          sessionkit("fastify", store, peerClient(peer)),
          find(
            (r) =>
              r.sessions === "@fastify/session" &&
              r.peer === peer &&
              (r.rolling ?? true) === rolling,
          ),
          1.3,
        );
      }
    }
    const asyncCeiling = find(isAsyncCeiling("node:http"));
    // A ceiling the load generator held back makes either cost look smaller than it
    // is: the rate's, and the CPU's too (a server that idles between requests spends
    // more per request), so neither counts a repetition whose ceiling was not server-bound.
    const shares = asyncCeiling?.serverCpuShares;
    const serverBound = (_: unknown, r: number) => (shares?.[r] ?? 0) >= SERVER_BOUND_SHARE;
    const cost = paired(sessionkit("node:http", "memory"), asyncCeiling);
    if (cost !== undefined) {
      const values = cost.map(([rate, ceiling]) => 1e6 / rate - 1e6 / ceiling);
      const valid = values.map(serverBound);
      targets.push({
        ...repeatedTarget(
          "node:http: sessionkit/memory cost over the async ceiling (1/rate − 1/ceiling rate)",
          values,
          "<=",
          10,
          "µs",
          valid,
        ),
        route,
      });
    }
    const cpuCost = paired(
      sessionkit("node:http", "memory"),
      asyncCeiling,
      (r) => r.serverCpuMicrosPerRequests,
    );
    if (cpuCost !== undefined) {
      targets.push({
        ...repeatedTarget(
          "node:http: sessionkit/memory server CPU per request over the async ceiling's",
          cpuCost.map(([app, ceiling]) => app - ceiling),
          "<=",
          10,
          "µs",
          cpuCost.map(serverBound),
        ),
        route,
      });
    }
  }
  // Checking writes in production is the app's choice beyond the defaults: shown, not a target.
  for (const result of core.filter((r) => !r.cycle.endsWith("checkWrites"))) {
    const threshold = result.cycle.startsWith("unchanged") ? 8 : 10;
    targets.push(
      repeatedTarget(
        `core CPU per ${result.cycle} cycle (µs, memory store, no I/O)`,
        result.repetitions,
        "<=",
        threshold,
        "µs",
      ),
    );
  }
  return targets;
}

const round = (value: unknown): unknown =>
  typeof value === "number" && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value;

/** One JSON line per result on stdout. */
export function emit(line: Line): void {
  const rounded = Object.fromEntries(Object.entries(line).map(([k, v]) => [k, round(v)]));
  process.stdout.write(`${JSON.stringify(rounded)}\n`);
}

/** The store-level targets (each a ratio of two figures of this run, not repeated pairs). */
export function storeTargets(store: readonly StoreResult[]): TargetResult[] {
  const targets: TargetResult[] = [];
  const ratio = (
    target: string,
    a: number | undefined,
    b: number | undefined,
    threshold: number,
  ) => {
    if (a === undefined || b === undefined) return;
    const value = a / b;
    targets.push({
      type: "target",
      target,
      ratio: value,
      threshold,
      comparison: ">=",
      pass: value >= threshold,
    });
  };
  const find = (backend: Backend, kind: SubjectKind, op: OperationName, subject?: string) =>
    store.find(
      (r) =>
        r.backend === backend &&
        r.kind === kind &&
        r.op === op &&
        r.concurrency === 64 &&
        (subject === undefined || r.subject === subject),
    )?.opsPerSec;

  // On Redis each peer is held against sessionkit on its own client library,
  // when the run has that subject (older runs only had sessionkit on ioredis).
  const sessionkitFor = (peer: string) => {
    const subject = `sessionkit${clientSuffix(peerClient(peer))}`;
    return store.some((r) => r.kind === "sessionkit" && r.subject === subject)
      ? subject
      : "sessionkit";
  };
  for (const backend of ["memory", "sqlite", "redis", "postgres"] as const) {
    ratio(
      `${backend}: changed cycle c64, sessionkit / raw client`,
      find(backend, "sessionkit", "changed", "sessionkit"),
      find(backend, "raw", "changed"),
      0.9,
    );
    for (const peer of new Set(
      store.filter((r) => r.backend === backend && r.kind === "peer").map((r) => r.subject),
    )) {
      const subject = sessionkitFor(peer);
      ratio(
        `${backend}: unchanged cycle c64, ${subject} / ${peer}`,
        find(backend, "sessionkit", "unchanged", subject),
        find(backend, "peer", "unchanged", peer),
        1.8,
      );
    }
  }
  ratio(
    "sqlite: changed cycle c64, sessionkit / better-sqlite3-session-store",
    find("sqlite", "sessionkit", "changed", "sessionkit"),
    find("sqlite", "peer", "changed", "better-sqlite3-session-store"),
    3,
  );

  return targets;
}

/** One in-process result with what it adds over its comparison's one-await ceiling. */
export interface InProcessRow {
  readonly result: InProcessResult;
  /** CPU µs per request over the one-await ceiling's, block by block (absent for the ceiling itself). */
  readonly overCeiling: Spread | undefined;
  /**
   * A peer's added cost divided by sessionkit's, block by block: how many
   * times what sessionkit adds to a request the peer adds (peers only).
   */
  readonly peerOverSessionkit: Spread | undefined;
  /** Young-generation bytes per request over the one-await ceiling's, medians (absent for the ceiling itself). */
  readonly bytesOverCeiling: number | undefined;
}

/**
 * The in-process results with their added costs, each computed within a
 * repetition from the blocks measured next to each other (block i of one app
 * against block i of the other), then summarised.
 */
export function inProcessRows(results: readonly InProcessResult[]): InProcessRow[] {
  const find = (of: InProcessResult, name: (app: string) => boolean) =>
    results.find((r) => r.comparison === of.comparison && r.route === of.route && name(r.app));
  /** `f` of each block and the other apps' blocks of the same repetition, summarised. */
  const perBlock = (of: InProcessResult, f: (block: number, rep: number) => number) =>
    of.repetitions.length === 0 ? undefined : spread(of.repetitions.map(f));
  return results.map((result) => {
    const ceiling = find(result, (app) => app.endsWith("no session, one await"));
    const sessionkit = find(result, (app) => app.includes("sessionkit/memory"));
    const isCeiling = result.app.includes("no session");
    const ceilingAt = (rep: number) => ceiling?.repetitions[rep] as number;
    const overCeiling =
      ceiling === undefined || isCeiling
        ? undefined
        : perBlock(result, (block, rep) => block - ceilingAt(rep));
    const isPeer = !isCeiling && result !== sessionkit;
    const peerOverSessionkit =
      !isPeer || ceiling === undefined || sessionkit === undefined
        ? undefined
        : perBlock(
            result,
            (block, rep) =>
              (block - ceilingAt(rep)) / ((sessionkit.repetitions[rep] as number) - ceilingAt(rep)),
          );
    const bytesOverCeiling =
      ceiling === undefined || isCeiling
        ? undefined
        : result.bytesPerRequest - ceiling.bytesPerRequest;
    return { result, overCeiling, peerOverSessionkit, bytesOverCeiling };
  });
}
