import type { CoreCpuResult } from "./core-cpu.js";
import type { Backend, SubjectKind } from "./subject.js";
import type { Measurement, OperationName } from "./workload.js";

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
  readonly framework: "node:http" | "express" | "fastify";
  /** `none` for the no-session ceiling. */
  readonly store: Backend | "none";
  readonly sessions: "sessionkit" | "express-session" | "none";
  readonly peer?: string;
  readonly route: "read" | "write";
  readonly connections: number;
  readonly reqPerSec: number;
  readonly reqPerSecMin: number;
  readonly reqPerSecMax: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
}

export interface TargetResult {
  readonly type: "target";
  readonly target: string;
  readonly ratio: number;
  readonly threshold: number;
  /** `<=` for a ceiling (core CPU), `>=` for a ratio. */
  readonly comparison: ">=" | "<=";
  readonly pass: boolean;
}

export type Line =
  | StoreResult
  | HttpResult
  | TargetResult
  | ({ readonly type: "core-cpu" } & CoreCpuResult)
  | { readonly type: "meta"; readonly [key: string]: unknown };

const round = (value: unknown): unknown =>
  typeof value === "number" && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value;

/** One JSON line per result on stdout. */
export function emit(line: Line): void {
  const rounded = Object.fromEntries(Object.entries(line).map(([k, v]) => [k, round(v)]));
  process.stdout.write(`${JSON.stringify(rounded)}\n`);
}

/** Every target of the issue, each a ratio of two figures of this run. */
export function checkTargets(
  store: readonly StoreResult[],
  http: readonly HttpResult[],
  core: readonly CoreCpuResult[],
): TargetResult[] {
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

  for (const backend of ["memory", "sqlite", "redis", "postgres"] as const) {
    ratio(
      `${backend}: changed cycle c64, sessionkit / raw client`,
      find(backend, "sessionkit", "changed"),
      find(backend, "raw", "changed"),
      0.9,
    );
    for (const peer of new Set(
      store.filter((r) => r.backend === backend && r.kind === "peer").map((r) => r.subject),
    )) {
      ratio(
        `${backend}: unchanged cycle c64, sessionkit / ${peer}`,
        find(backend, "sessionkit", "unchanged"),
        find(backend, "peer", "unchanged", peer),
        1.8,
      );
    }
  }
  ratio(
    "sqlite: changed cycle c64, sessionkit / better-sqlite3-session-store",
    find("sqlite", "sessionkit", "changed"),
    find("sqlite", "peer", "changed", "better-sqlite3-session-store"),
    3,
  );

  const rps = (p: (r: HttpResult) => boolean) => http.find(p)?.reqPerSec;
  for (const route of ["read", "write"] as const) {
    for (const framework of ["express", "node:http", "fastify"] as const) {
      const ceiling = rps(
        (r) => r.framework === framework && r.store === "none" && r.route === route,
      );
      for (const backend of ["memory", "sqlite"] as const) {
        ratio(
          `http ${route}: ${framework} + sessionkit on ${backend} / no-session ceiling`,
          rps(
            (r) =>
              r.framework === framework &&
              r.sessions === "sessionkit" &&
              r.store === backend &&
              r.route === route,
          ),
          ceiling,
          0.8,
        );
      }
    }
    for (const peer of ["connect-redis@8", "connect-redis@9"]) {
      for (const framework of ["express", "node:http"] as const) {
        ratio(
          `http ${route}: ${framework} + sessionkit on redis / express + express-session + ${peer}`,
          rps(
            (r) =>
              r.framework === framework &&
              r.sessions === "sessionkit" &&
              r.store === "redis" &&
              r.route === route,
          ),
          rps((r) => r.sessions === "express-session" && r.peer === peer && r.route === route),
          1.3,
        );
      }
    }
  }
  for (const result of core) {
    targets.push({
      type: "target",
      target: `core CPU per ${result.cycle} cycle (µs, memory store, no I/O)`,
      ratio: result.cpuMicrosPerCycle,
      threshold: 10,
      comparison: "<=",
      pass: result.cpuMicrosPerCycle <= 10,
    });
  }
  return targets;
}
