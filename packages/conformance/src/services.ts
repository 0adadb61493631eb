import { randomBytes } from "node:crypto";
import { connect, createServer } from "node:net";
import { inject } from "vitest";

/** The servers the test helpers can provide. */
export type ServiceName = "redis" | "postgres";

/** Key under which the global setup provides the Redis container's URL. */
export const REDIS_URL_KEY = "sessionkitRedisUrl";
/** Key under which the global setup provides the PostgreSQL container's URL. */
export const POSTGRES_URL_KEY = "sessionkitPostgresUrl";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of the Redis container the global setup started for this run. */
    sessionkitRedisUrl?: string;
    /** URL of the PostgreSQL container the global setup started for this run. */
    sessionkitPostgresUrl?: string;
  }
}

/**
 * Label put on every container these helpers start, so that leftovers can be
 * found with `docker ps --filter label=org.sessionkit.test`.
 */
export const CONTAINER_LABEL = "org.sessionkit.test";

/** A container started for a test run. */
export interface TestServiceContainer {
  readonly service: ServiceName;
  /** The image it runs. */
  readonly image: string;
  /** A URL for the test clients (no secret beyond the container's own test password). */
  readonly url: string;
  /** Stops and removes the container. */
  stop(): Promise<void>;
}

/** Which real server a test needs. */
interface ServiceSpec {
  readonly label: string;
  readonly envVar: string;
  readonly provideKey: typeof REDIS_URL_KEY | typeof POSTGRES_URL_KEY;
  readonly defaultPort: number;
  readonly example: string;
  readonly imageEnvVar: string;
  readonly defaultImage: string;
  readonly offlineImage: string;
}

const REDIS: ServiceSpec = {
  label: "Redis",
  envVar: "REDIS_URL",
  provideKey: REDIS_URL_KEY,
  defaultPort: 6379,
  example: "redis://127.0.0.1:6379",
  imageEnvVar: "SESSIONKIT_TEST_REDIS_IMAGE",
  defaultImage: "redis:8.0",
  offlineImage: "sessionkit-test/redis:8.0",
};

const POSTGRES: ServiceSpec = {
  label: "PostgreSQL",
  envVar: "DATABASE_URL",
  provideKey: POSTGRES_URL_KEY,
  defaultPort: 5432,
  example: "postgres://postgres@127.0.0.1:5432/test",
  imageEnvVar: "SESSIONKIT_TEST_POSTGRES_IMAGE",
  defaultImage: "postgres:17",
  offlineImage: "sessionkit-test/postgres:17",
};

/** The `name:tag` of each image scripts/test-images.sh builds as `sessionkit-test/name:tag`. */
const OFFLINE_IMAGES = new Set([
  "redis:7.0",
  "redis:8.0",
  "valkey:8.1",
  "postgres:15",
  "postgres:17",
]);

const SPECS: Record<ServiceName, ServiceSpec> = { redis: REDIS, postgres: POSTGRES };

/**
 * The image a service's container runs: the value of its variable
 * (`SESSIONKIT_TEST_REDIS_IMAGE`, `SESSIONKIT_TEST_POSTGRES_IMAGE`) when set,
 * else the official image (`redis:8.0`, `postgres:17`).
 */
export function serviceImage(service: ServiceName): { envVar: string; image: string } {
  const spec = SPECS[service];
  const configured = process.env[spec.imageEnvVar];
  return {
    envVar: spec.imageEnvVar,
    image: configured === undefined || configured === "" ? spec.defaultImage : configured,
  };
}

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

/** A free loopback port, as the kernel hands one out, for a server a test starts itself. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `check` every `intervalMs` until it resolves `true` (a health check
 * with a deadline, never a fixed sleep); rejects naming `what` after `withinMs`.
 * A `check` that throws counts as "not yet".
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  withinMs = 30_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${withinMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Loads testcontainers (an optional peer), or `null` when it is not installed. */
async function loadTestcontainers(): Promise<typeof import("testcontainers") | null> {
  try {
    return await import("testcontainers");
  } catch {
    return null;
  }
}

/**
 * Whether a Docker engine answers, found the way testcontainers finds it:
 * `~/.testcontainers.properties`, `DOCKER_HOST` (with `DOCKER_TLS_VERIFY` and
 * `DOCKER_CERT_PATH`), `/var/run/docker.sock`, then the rootless sockets
 * (`$XDG_RUNTIME_DIR/docker.sock`, `~/.docker/run/docker.sock`,
 * `~/.docker/desktop/docker.sock`, `/run/user/<uid>/docker.sock`).
 * `false` when testcontainers is not installed.
 *
 * @param timeoutMs - how long to wait for an answer, in milliseconds
 *   (default 10 000: the first detection also inspects the engine).
 */
export async function dockerAvailable(timeoutMs = 10_000): Promise<boolean> {
  const testcontainers = await loadTestcontainers();
  if (testcontainers === null) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const probe = testcontainers.getContainerRuntimeClient().then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The image scripts/test-images.sh builds for the same server version, for error messages. */
function offlineImage(image: string, spec: ServiceSpec): string {
  const name = image.split("/").pop() ?? "";
  return OFFLINE_IMAGES.has(name) ? `sessionkit-test/${name}` : spec.offlineImage;
}

/** The server binary of a Redis-protocol image: Valkey images ship `valkey-server`. */
function redisServerCommand(image: string): string {
  const repository = image.split("@")[0]?.replace(/:[^/]*$/, "") ?? image;
  return /valkey/i.test(repository) ? "valkey-server" : "redis-server";
}

/**
 * Starts a container of a service's image (see {@link serviceImage}) through
 * testcontainers and waits until it accepts connections. The container is
 * labelled {@link CONTAINER_LABEL}; the caller stops it. Fails with a
 * {@link MissingServiceError} that names the image and the fix: no Docker
 * engine, testcontainers missing, Ryuk unavailable, or the image cannot be
 * pulled or started.
 */
export async function startServiceContainer(service: ServiceName): Promise<TestServiceContainer> {
  const spec = SPECS[service];
  const { image, envVar } = serviceImage(service);
  const testcontainers = await loadTestcontainers();
  const containerModule = await (service === "redis"
    ? import("@testcontainers/redis")
    : import("@testcontainers/postgresql")
  ).catch(() => null);
  if (testcontainers === null || containerModule === null) {
    throw new MissingServiceError(
      `cannot start a ${spec.label} container (${image}): install the dev dependencies ` +
        `testcontainers and @testcontainers/${service === "redis" ? "redis" : "postgresql"}, ` +
        `or set ${spec.envVar} to a running server.`,
    );
  }
  if (!(await dockerAvailable())) {
    throw new MissingServiceError(
      `cannot start a ${spec.label} container (${image}): no Docker engine answers. Start one ` +
        "(or point DOCKER_HOST at it), or set " +
        `${spec.envVar} (e.g. ${spec.envVar}=${spec.example}) to a running server.`,
    );
  }
  if (process.env.TESTCONTAINERS_RYUK_DISABLED !== "true") {
    try {
      await testcontainers.getReaper(await testcontainers.getContainerRuntimeClient());
    } catch (error) {
      throw new MissingServiceError(
        `cannot start a ${spec.label} container (${image}): testcontainers could not start its ` +
          `Ryuk reaper (${(error as Error).message}). Where the Ryuk image cannot be pulled, set ` +
          "TESTCONTAINERS_RYUK_DISABLED=true: the sessionkit global setup stops its own containers.",
      );
    }
  }
  const labels = { [CONTAINER_LABEL]: "true", [`${CONTAINER_LABEL}.service`]: service };
  try {
    if ("RedisContainer" in containerModule) {
      const started = await new containerModule.RedisContainer(image)
        .withLabels(labels)
        .withStartupTimeout(60_000)
        // The Debian server packages keep protected mode on; the official image turns it off.
        .withCommand([
          redisServerCommand(image),
          "--protected-mode",
          "no",
          "--save",
          "",
          "--appendonly",
          "no",
        ])
        .start();
      return {
        service,
        image,
        url: started.getConnectionUrl(),
        stop: async () => {
          await started.stop({ timeout: 5_000 });
        },
      };
    }
    const started = await new containerModule.PostgreSqlContainer(image)
      .withLabels(labels)
      .withStartupTimeout(60_000)
      .start();
    return {
      service,
      image,
      url: started.getConnectionUri(),
      stop: async () => {
        await started.stop({ timeout: 5_000 });
      },
    };
  } catch (error) {
    throw new MissingServiceError(
      `cannot start a ${spec.label} container from image ${image} (from ${envVar}, default ` +
        `${spec.defaultImage}): ${(error as Error).message}. Where no registry is reachable, build ` +
        `the local test images with scripts/test-images.sh and set ${envVar} (e.g. ` +
        `${envVar}=${offlineImage(image, spec)}); or set ${spec.envVar} to a running server.`,
    );
  }
}

/** The URL the global setup provided for this run, if any (only inside vitest). */
function providedUrl(spec: ServiceSpec): string | undefined {
  try {
    return inject(spec.provideKey);
  } catch {
    return undefined;
  }
}

async function serviceUrl(spec: ServiceSpec): Promise<string> {
  const provided = providedUrl(spec);
  if (provided !== undefined) return provided;
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
  const setupHint =
    'add globalSetup: ["@sessionkit/conformance/global-setup"] to the vitest config: it starts ' +
    "one container for the whole run and stops it at the end";
  if (await dockerAvailable()) {
    throw new MissingServiceError(
      `these tests need a real ${spec.label} server: set ${spec.envVar} (e.g. ` +
        `${spec.envVar}=${spec.example}) to a running server, or, since a Docker engine answers, ` +
        `${setupHint}.`,
    );
  }
  throw new MissingServiceError(
    `these tests need a real ${spec.label} server and none is available. Either set ${spec.envVar} ` +
      `(e.g. ${spec.envVar}=${spec.example}) to a running server, or start a Docker engine so ` +
      `testcontainers can run one (${setupHint}).`,
  );
}

/**
 * A Redis URL for tests: the container the global setup
 * (`@sessionkit/conformance/global-setup`) started for this run, else
 * `REDIS_URL` (checked to answer), else a {@link MissingServiceError} that
 * says how to provide one. Never skips.
 */
export function getRedisUrl(): Promise<string> {
  return serviceUrl(REDIS);
}

/**
 * A PostgreSQL URL for tests: the container the global setup
 * (`@sessionkit/conformance/global-setup`) started for this run, else
 * `DATABASE_URL` (checked to answer), else a {@link MissingServiceError} that
 * says how to provide one. Never skips.
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
