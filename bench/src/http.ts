import type { ChildProcess } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import type { ServiceNames } from "./backends.js";
import type { BenchConfig } from "./config.js";
import { type AppSpec, appName, type Framework, readProblem } from "./http-apps.js";
import { nextMessage } from "./ipc.js";
import { type LoadGenerator, type LoadRun, runLoad, startLoadGenerator } from "./load-generator.js";
import { forkMeasured } from "./pin.js";
import { note, step } from "./progress.js";
import { type ComparisonResult, emit, type HttpResult } from "./report.js";
import type { Backend } from "./subject.js";
import { median } from "./workload.js";

/**
 * Apps measured together: interleaved, repetition by repetition, so that a
 * change in machine load hits every app of the comparison alike.
 */
export interface Comparison {
  /** `express/memory`, `fastify/sqlite+postgres`, … */
  readonly name: string;
  readonly framework: Framework;
  readonly apps: readonly AppSpec[];
}

const sessionkit = (
  framework: Framework,
  store: Backend,
  redisClient?: AppSpec["redisClient"],
): AppSpec => ({
  framework,
  sessions: "sessionkit",
  store,
  ...(redisClient === undefined ? {} : { redisClient }),
});
/**
 * The known costs of the calibration apps next to the node:http ceilings, µs
 * per request: the target's own 10 µs, and twice that, so that what the cost
 * figures add to any cost can be told from what they add per µs.
 */
const CALIBRATION_WORK_MICROS = [10, 20] as const;

const ceilings = (framework: Framework): AppSpec[] => [
  { framework, sessions: "none", store: "none", ceiling: "sync" },
  { framework, sessions: "none", store: "none", ceiling: "async" },
];

/**
 * Every comparison: per framework, sessionkit next to the peer users would
 * pick on the same kind of store, and the no-session ceilings next to
 * sessionkit on memory. Stores without a peer on a framework share one
 * comparison, so every figure comes from interleaved repetitions.
 */
export function comparisons(): Comparison[] {
  // On Redis, sessionkit on each client library its peers use: ioredis
  // (connect-redis 8) and node-redis (connect-redis 9).
  const sessionkits = (framework: Framework, store: Backend): AppSpec[] =>
    store === "redis"
      ? [sessionkit(framework, store), sessionkit(framework, store, "node-redis")]
      : [sessionkit(framework, store)];
  const express = (store: Backend, peers: AppSpec["peer"][]): Comparison => ({
    name: `express/${store}`,
    framework: "express",
    apps: [
      ...sessionkits("express", store),
      ...peers.map((peer) => ({
        framework: "express" as const,
        sessions: "express-session" as const,
        store,
        ...(peer === undefined ? {} : { peer }),
      })),
      ...(store === "memory" ? ceilings("express") : []),
    ],
  });
  const fastifySession = (store: Backend, peer: "memory" | "connect-redis@9"): AppSpec[] => [
    { framework: "fastify", sessions: "@fastify/session", store, peer },
    { framework: "fastify", sessions: "@fastify/session", store, peer, rolling: false },
  ];
  return [
    {
      name: "node:http/memory",
      framework: "node:http",
      apps: [
        sessionkit("node:http", "memory"),
        // The same guarantees in the fewest steps: what the steps themselves cost.
        { framework: "node:http", sessions: "floor", store: "memory" },
        ...ceilings("node:http"),
        // Known costs, spent as pure CPU: what the cost figures make of them.
        ...CALIBRATION_WORK_MICROS.map(
          (workMicros): AppSpec => ({
            framework: "node:http",
            sessions: "none",
            store: "none",
            ceiling: "async",
            workMicros,
          }),
        ),
      ],
    },
    {
      name: "node:http/sqlite+redis+postgres",
      framework: "node:http",
      apps: (["sqlite", "redis", "postgres"] as const).map((store) =>
        sessionkit("node:http", store),
      ),
    },
    express("memory", ["memory"]),
    express("sqlite", ["better-sqlite3-session-store"]),
    express("redis", ["connect-redis@9", "connect-redis@8"]),
    express("postgres", ["connect-pg-simple"]),
    {
      name: "fastify/memory",
      framework: "fastify",
      apps: [
        sessionkit("fastify", "memory"),
        ...fastifySession("memory", "memory"),
        ...ceilings("fastify"),
      ],
    },
    {
      name: "fastify/redis",
      framework: "fastify",
      apps: [...sessionkits("fastify", "redis"), ...fastifySession("redis", "connect-redis@9")],
    },
    {
      name: "fastify/sqlite+postgres",
      framework: "fastify",
      apps: [sessionkit("fastify", "sqlite"), sessionkit("fastify", "postgres")],
    },
  ];
}

/** One child process serving one app, so autocannon (in this process) never shares its event loop. */
interface Server {
  readonly spec: AppSpec;
  readonly app: string;
  readonly child: ChildProcess;
  port: number;
  cookies: string[];
}

interface Reply {
  readonly port?: number;
  readonly error?: string;
  readonly cpuMicros?: number;
  readonly systemMicros?: number;
  readonly workMicros?: number;
  readonly wallMicros?: number;
}

function request(child: ChildProcess, message: object): Promise<Reply> {
  const reply = nextMessage(child, "server") as Promise<Reply>;
  child.send(message);
  return reply;
}

/** One cookie per autocannon connection: each connection is one user with its own session. */
export async function login(port: number, count: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/login`, { method: "POST" });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`POST /login answered ${response.status}`);
    const setCookie = response.headers.get("set-cookie");
    cookies.push(setCookie === null ? "" : setCookie.slice(0, setCookie.indexOf(";")));
  }
  return cookies;
}

let loadGenerator: Promise<LoadGenerator> | undefined;

/**
 * The load generator of `--loadgen-node`, started on first use and kept for
 * the whole run; `undefined` when autocannon runs in this process.
 */
export function configuredLoadGenerator(config: BenchConfig): Promise<LoadGenerator> | undefined {
  if (config.loadGeneratorNode === undefined) return undefined;
  loadGenerator ??= startLoadGenerator(config.loadGeneratorNode);
  return loadGenerator;
}

/** One fixed-time autocannon run against `route`, each connection sending its own cookie. */
export async function cannon(
  port: number,
  route: "read" | "write",
  cookies: string[],
  config: BenchConfig,
  seconds: number,
): Promise<LoadRun> {
  const spec = { port, route, cookies, connections: config.http.connections, seconds };
  const generator = configuredLoadGenerator(config);
  return generator === undefined ? runLoad(spec) : (await generator).run(spec);
}

/** Completed requests per second of one run, over the run's measured duration. */
const rateOf = (run: LoadRun) => run.requests.total / run.duration;

/** One measured run: autocannon's figures and the server process's CPU time during it. */
interface Measured {
  readonly run: LoadRun;
  /** Server CPU time ÷ wall time over the run: near 1 when the server was the bottleneck. */
  readonly serverCpuShare: number;
  /** Server CPU time per completed request, µs. */
  readonly serverCpuMicrosPerRequest: number;
  /** The part of it the kernel spent on the server's behalf (system CPU time), µs. */
  readonly serverSystemMicrosPerRequest: number;
  /** A calibration app's work per request, as timed around each call in the server, µs. */
  readonly workMicrosPerRequest: number;
}

interface Usage {
  readonly cpuMicros: number;
  readonly systemMicros: number;
  readonly workMicros: number;
  readonly wallMicros: number;
}

async function serverUsage(server: Server): Promise<Usage> {
  const { cpuMicros, systemMicros, workMicros, wallMicros, error } = await request(server.child, {
    usage: true,
  });
  if (
    cpuMicros === undefined ||
    systemMicros === undefined ||
    workMicros === undefined ||
    wallMicros === undefined
  )
    throw new Error(`${server.app}: no CPU usage from its server process (${error})`);
  return { cpuMicros, systemMicros, workMicros, wallMicros };
}

/** One run against `server`, with the server's CPU time over it. */
async function measure(
  server: Server,
  route: "read" | "write",
  config: BenchConfig,
): Promise<Measured> {
  const before = await serverUsage(server);
  const run = await cannon(server.port, route, server.cookies, config, config.http.seconds);
  const after = await serverUsage(server);
  const cpu = after.cpuMicros - before.cpuMicros;
  const requests = Math.max(1, run.requests.total);
  return {
    run,
    serverCpuShare: cpu / (after.wallMicros - before.wallMicros),
    serverCpuMicrosPerRequest: cpu / requests,
    serverSystemMicrosPerRequest: (after.systemMicros - before.systemMicros) / requests,
    workMicrosPerRequest: (after.workMicros - before.workMicros) / requests,
  };
}

const round2 = (value: number) => Math.round(value * 100) / 100;

const loadAverage = () => loadavg().map((value) => Number(value.toFixed(2)));

/** Starts every app of a comparison, each in its own child process; apps that fail are left out. */
async function startServers(
  comparison: Comparison,
  names: ServiceNames,
  config: BenchConfig,
): Promise<Server[]> {
  const script = fileURLToPath(new URL("./http-server.ts", import.meta.url));
  const wanted = comparison.apps.filter(
    (spec) => config.app === undefined || appName(spec).includes(config.app),
  );
  const started = await Promise.all(
    wanted.map(async (spec) => {
      const child = forkMeasured(script, [JSON.stringify(names)]);
      const reply = await request(child, { start: spec });
      return { spec, child, reply };
    }),
  );
  const servers: Server[] = [];
  for (const { spec, child, reply } of started) {
    const app = appName(spec);
    if (reply.port === undefined) {
      note(`# ${app}: skipped (${reply.error})`);
      if (child.connected) child.disconnect();
      continue;
    }
    servers.push({ spec, app, child, port: reply.port, cookies: [] });
  }
  const ready: Server[] = [];
  for (const server of servers) {
    step("http", comparison.name, `logging in ${config.http.connections} users: ${server.app}`);
    server.cookies =
      server.spec.sessions === "none" ? [""] : await login(server.port, config.http.connections);
    const problem = await sessionProblem(server);
    if (problem === undefined) {
      ready.push(server);
    } else {
      note(`# ${server.app}: left out, ${problem}`);
      if (server.child.connected) server.child.disconnect();
    }
  }
  return ready;
}

/**
 * Checks that every connection's cookie really loads its session (the read
 * route reports the two roles stored at login; a no-session app reports one),
 * so no app is measured doing less than the others.
 */
async function sessionProblem(server: Server): Promise<string | undefined> {
  for (const cookie of server.cookies) {
    const response = await fetch(`http://127.0.0.1:${server.port}/read`, {
      headers: cookie === "" ? {} : { cookie },
    });
    const problem = readProblem(server.spec, response.status, await response.text());
    if (problem !== undefined) return problem;
  }
  return undefined;
}

async function stopServers(servers: readonly Server[]): Promise<void> {
  await Promise.all(
    servers.map(async ({ child }) => {
      if (!child.connected) return;
      await request(child, { stop: true });
      if (child.connected) child.disconnect();
    }),
  );
}

/**
 * Serves every app of every comparison and drives them with autocannon at
 * `config.http.connections` connections, interleaved: after a warm-up of
 * each app, repetition r runs every app once, in order when r is even and in
 * reverse order when r is odd (A B, B A, A B, …). Records the load average
 * before and after each comparison.
 */
export async function benchHttp(config: BenchConfig, names: ServiceNames): Promise<HttpResult[]> {
  const all = comparisons().filter(
    (comparison) =>
      (config.comparison === undefined || comparison.name.includes(config.comparison)) &&
      comparison.apps.some(
        (spec) => config.app === undefined || appName(spec).includes(config.app),
      ),
  );
  const results: HttpResult[] = [];
  for (const [index, comparison] of all.entries()) {
    const position = `${index + 1}/${all.length}`;
    step("http", position, `${comparison.name}: starting ${comparison.apps.length} apps`);
    const servers = await startServers(comparison, names, config);
    try {
      if (servers.length === 0) continue;
      for (const route of config.http.routes) {
        results.push(...(await interleave(comparison, position, servers, route, config)));
      }
    } finally {
      await stopServers(servers);
    }
  }
  return results;
}

async function interleave(
  comparison: Comparison,
  position: string,
  servers: readonly Server[],
  route: "read" | "write",
  config: BenchConfig,
): Promise<HttpResult[]> {
  const loadBefore = loadAverage();
  const label = `${comparison.name} ${route}`;
  if (config.http.warmupSeconds > 0) {
    for (const server of servers) {
      step("http", position, `${label} · warm-up · ${server.app}`);
      await cannon(server.port, route, server.cookies, config, config.http.warmupSeconds);
    }
  }
  const runs = new Map<Server, Measured[]>(servers.map((server) => [server, []]));
  const repetitions = config.http.repetitions;
  for (let rep = 0; rep < repetitions; rep++) {
    const order = rep % 2 === 0 ? servers : [...servers].reverse();
    for (const server of order) {
      step("http", position, `${label} · rep ${rep + 1}/${repetitions} · ${server.app}`);
      runs.get(server)?.push(await measure(server, route, config));
    }
  }
  const loadAfter = loadAverage();
  const comparisonLine: ComparisonResult = {
    type: "comparison",
    comparison: comparison.name,
    route,
    apps: servers.map((server) => server.app),
    repetitions,
    secondsPerRun: config.http.seconds,
    loadBefore,
    loadAfter,
  };
  emit(comparisonLine);
  note(
    `# ${label}: load average ${loadBefore.join(" ")} before, ${loadAfter.join(" ")} after, ${repetitions} interleaved repetitions`,
  );
  const results: HttpResult[] = [];
  for (const server of servers) {
    const measurements = runs.get(server) ?? [];
    const measured = measurements.map(({ run }) => run);
    const rates = measured.map(rateOf);
    const { spec } = server;
    const result: HttpResult = {
      type: "http",
      app: server.app,
      comparison: comparison.name,
      framework: spec.framework,
      store: spec.store,
      sessions: spec.sessions,
      ...(spec.peer === undefined ? {} : { peer: spec.peer }),
      ...(spec.ceiling === undefined ? {} : { ceiling: spec.ceiling }),
      ...(spec.workMicros === undefined ? {} : { workMicros: spec.workMicros }),
      ...(spec.rolling === undefined ? {} : { rolling: spec.rolling }),
      ...(spec.redisClient === undefined ? {} : { redisClient: spec.redisClient }),
      route,
      connections: config.http.connections,
      reqPerSec: median(rates),
      reqPerSecMin: Math.min(...rates),
      reqPerSecMax: Math.max(...rates),
      repetitions: rates.map((rate) => Math.round(rate)),
      serverCpuShares: measurements.map(({ serverCpuShare }) => round2(serverCpuShare)),
      serverCpuMicrosPerRequests: measurements.map((m) => round2(m.serverCpuMicrosPerRequest)),
      serverSystemMicrosPerRequests: measurements.map((m) =>
        round2(m.serverSystemMicrosPerRequest),
      ),
      ...(spec.workMicros === undefined
        ? {}
        : { workMicrosPerRequests: measurements.map((m) => round2(m.workMicrosPerRequest)) }),
      p50Ms: median(measured.map((run) => run.latency.p50)),
      p99Ms: median(measured.map((run) => run.latency.p99)),
      errors: measured.reduce((sum, run) => sum + run.errors, 0),
      non2xx: measured.reduce((sum, run) => sum + run.non2xx, 0),
    };
    if (result.non2xx > 0 || result.errors > 0) {
      note(`# ${result.app} ${route}: ${result.non2xx} non-2xx, ${result.errors} errors: invalid`);
    }
    emit(result);
    results.push(result);
  }
  return results;
}
