import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import type { ServiceNames } from "./backends.js";
import type { BenchConfig } from "./config.js";
import type { AppSpec } from "./http-apps.js";
import { emit, type HttpResult } from "./report.js";
import { median } from "./workload.js";

/** Every app: the no-session ceilings, sessionkit on every store, express-session on every peer. */
export function appSpecs(): AppSpec[] {
  const specs: AppSpec[] = [];
  const adapterReady = (name: string) =>
    existsSync(fileURLToPath(new URL(`../../packages/${name}/src/index.ts`, import.meta.url)));
  const frameworks = (["node:http", "express", "fastify"] as const).filter(
    (framework) => framework === "node:http" || adapterReady(framework),
  );
  for (const framework of ["node:http", "express", "fastify"] as const) {
    specs.push({ framework, sessions: "none", store: "none" });
  }
  for (const framework of frameworks) {
    for (const store of ["memory", "sqlite", "redis", "postgres"] as const) {
      specs.push({ framework, sessions: "sessionkit", store });
    }
  }
  const peers = [
    ["memory", "memory"],
    ["sqlite", "better-sqlite3-session-store"],
    ["redis", "connect-redis@8"],
    ["redis", "connect-redis@9"],
    ["postgres", "connect-pg-simple"],
  ] as const;
  for (const [store, peer] of peers)
    specs.push({ framework: "express", sessions: "express-session", store, peer });
  return specs;
}

function request(child: ChildProcess, message: object): Promise<{ port?: number; error?: string }> {
  return new Promise((resolve) => {
    child.once("message", (reply) => resolve(reply as { port?: number; error?: string }));
    child.send(message);
  });
}

/** One cookie per autocannon connection: each connection is one user with its own session. */
export async function login(port: number, count: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/login`, { method: "POST" });
    await response.arrayBuffer();
    const setCookie = response.headers.get("set-cookie");
    cookies.push(setCookie === null ? "" : setCookie.slice(0, setCookie.indexOf(";")));
  }
  return cookies;
}

/** One fixed-time autocannon run against `route`, each connection sending its own cookie. */
export async function cannon(
  port: number,
  route: "read" | "write",
  cookies: string[],
  config: BenchConfig,
  seconds: number,
) {
  let next = 0;
  return autocannon({
    url: `http://127.0.0.1:${port}/${route}`,
    method: route === "read" ? "GET" : "POST",
    connections: config.http.connections,
    duration: seconds,
    setupClient(client) {
      const cookie = cookies[next++ % cookies.length] as string;
      client.setHeaders(cookie === "" ? {} : { cookie });
    },
  });
}

/** Serves each app in a child process and drives it with autocannon, 64 connections, fixed time. */
export async function benchHttp(config: BenchConfig, names: ServiceNames): Promise<HttpResult[]> {
  const child = fork(
    fileURLToPath(new URL("./http-server.ts", import.meta.url)),
    [JSON.stringify(names)],
    {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    },
  );
  const results: HttpResult[] = [];
  try {
    for (const spec of appSpecs()) {
      const app = `${spec.framework} + ${spec.sessions === "express-session" ? `express-session/${spec.peer}` : spec.sessions === "sessionkit" ? `sessionkit/${spec.store}` : "no session"}`;
      if (config.app !== undefined && !app.includes(config.app)) continue;
      const started = await request(child, { start: spec });
      if (started.port === undefined) {
        console.error(`# ${app}: skipped (${started.error})`);
        continue;
      }
      try {
        const cookies =
          spec.sessions === "none" ? [""] : await login(started.port, config.http.connections);
        for (const route of config.http.routes) {
          if (config.http.warmupSeconds > 0)
            await cannon(started.port, route, cookies, config, config.http.warmupSeconds);
          const runs = [];
          for (let i = 0; i < config.http.runs; i++)
            runs.push(await cannon(started.port, route, cookies, config, config.http.seconds));
          const rates = runs.map((run) => run.requests.total / config.http.seconds);
          const result: HttpResult = {
            type: "http",
            app,
            framework: spec.framework,
            store: spec.store,
            sessions: spec.sessions,
            ...(spec.peer === undefined ? {} : { peer: spec.peer }),
            route,
            connections: config.http.connections,
            reqPerSec: median(rates),
            reqPerSecMin: Math.min(...rates),
            reqPerSecMax: Math.max(...rates),
            p50Ms: median(runs.map((run) => run.latency.p50)),
            p99Ms: median(runs.map((run) => run.latency.p99)),
            errors: runs.reduce((sum, run) => sum + run.errors, 0),
            non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
          };
          if (result.non2xx > 0 || result.errors > 0) {
            console.error(
              `# ${app} ${route}: ${result.non2xx} non-2xx, ${result.errors} errors: figure invalid`,
            );
          }
          emit(result);
          results.push(result);
        }
      } finally {
        await request(child, { stop: true });
      }
    }
  } finally {
    child.disconnect();
  }
  return results;
}
