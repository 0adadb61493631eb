import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";

/** Which real server a test needs. */
interface ServiceSpec {
  readonly label: string;
  readonly envVar: string;
  readonly defaultPort: number;
  readonly example: string;
  startContainer(): Promise<string>;
}

const REDIS: ServiceSpec = {
  label: "Redis",
  envVar: "REDIS_URL",
  defaultPort: 6379,
  example: "redis://127.0.0.1:6379",
  async startContainer() {
    const { RedisContainer } = await import("@testcontainers/redis");
    const container = await new RedisContainer("redis:7-alpine").start();
    return container.getConnectionUrl();
  },
};

const POSTGRES: ServiceSpec = {
  label: "PostgreSQL",
  envVar: "DATABASE_URL",
  defaultPort: 5432,
  example: "postgres://postgres@127.0.0.1:5432/test",
  async startContainer() {
    const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
    const container = await new PostgreSqlContainer("postgres:16-alpine").start();
    return container.getConnectionUri();
  },
};

/** Raised when a test needs a server that is neither configured nor startable. */
export class MissingServiceError extends Error {
  override readonly name = "MissingServiceError";
}

/** `host:port` of a URL, and nothing else: URLs may carry passwords. */
function endpoint(url: string, defaultPort: number): { host: string; port: number } {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
    return { host, port: parsed.port === "" ? defaultPort : Number(parsed.port) };
  } catch {
    throw new MissingServiceError("the service URL is not a valid URL (its value is not shown)");
  }
}

/** Resolves when a TCP connection to host:port opens; rejects with the reason otherwise. */
export function probeTcp(host: string, port: number, timeoutMs = 2_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const done = (error?: Error) => {
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once("connect", () => done());
    socket.once("error", (error) => done(error));
  });
}

/** Whether a Docker engine answers `GET /_ping` (on `DOCKER_HOST` or the default socket). */
export async function dockerAvailable(timeoutMs = 1_500): Promise<boolean> {
  const host = process.env.DOCKER_HOST;
  let target: { socketPath: string } | { host: string; port: number };
  if (host === undefined || host === "") {
    if (!existsSync("/var/run/docker.sock")) return false;
    target = { socketPath: "/var/run/docker.sock" };
  } else if (host.startsWith("unix://")) {
    target = { socketPath: host.slice("unix://".length) };
  } else if (host.startsWith("tcp://")) {
    target = endpoint(host.replace(/^tcp:/, "http:"), 2375);
  } else {
    return false;
  }
  return new Promise((resolve) => {
    const req = request({ ...target, path: "/_ping", method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

const started = new Map<ServiceSpec, Promise<string>>();

async function serviceUrl(spec: ServiceSpec): Promise<string> {
  const configured = process.env[spec.envVar];
  if (configured !== undefined && configured !== "") {
    const { host, port } = endpoint(configured, spec.defaultPort);
    try {
      await probeTcp(host, port);
    } catch (error) {
      throw new MissingServiceError(
        `${spec.label} is not reachable at ${host}:${port} (from ${spec.envVar}): ` +
          `${(error as Error).message}. Start ${spec.label} there, or point ${spec.envVar} at a running server.`,
      );
    }
    return configured;
  }
  if (await dockerAvailable()) {
    let url = started.get(spec);
    if (url === undefined) {
      url = spec.startContainer();
      started.set(spec, url);
    }
    return url;
  }
  throw new MissingServiceError(
    `these tests need a real ${spec.label} server and none is available. Either set ${spec.envVar} ` +
      `(e.g. ${spec.envVar}=${spec.example}) to a running server, or start a Docker engine so ` +
      "testcontainers can run one.",
  );
}

/**
 * A Redis URL for tests: `REDIS_URL` when set (checked to answer), else a
 * testcontainers Redis when a Docker engine answers, else a
 * {@link MissingServiceError} that says how to provide one. Never skips.
 */
export function getRedisUrl(): Promise<string> {
  return serviceUrl(REDIS);
}

/**
 * A PostgreSQL URL for tests: `DATABASE_URL` when set (checked to answer), else
 * a testcontainers PostgreSQL when a Docker engine answers, else a
 * {@link MissingServiceError} that says how to provide one. Never skips.
 */
export function getPostgresUrl(): Promise<string> {
  return serviceUrl(POSTGRES);
}

/**
 * A name unique to this call, usable as a Redis key prefix, a SQL identifier
 * or a file name: lowercase letters, digits and `_`. Give each test file (or
 * each store the suite creates) its own, so files run in parallel.
 */
export function uniqueName(prefix = "sk"): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(5).toString("hex")}`;
}
