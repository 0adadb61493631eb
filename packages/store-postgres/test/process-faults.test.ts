import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import {
  freePort,
  makeRecord,
  randomKey,
  timedFailure,
  untilRecovered,
  waitUntil,
} from "@sessionkit/conformance";
import { isSessionError, type SessionError } from "@sessionkit/core";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPostgresStore, type PostgresStore } from "../src/index.js";

// Checklist A30 (timeouts, fail closed with a typed error, no unhandled
// rejection, automatic recovery) and A32 (statement timeout, clients always
// released), against a PostgreSQL cluster this file creates and starts itself
// on a spare loopback port, then freezes (SIGSTOP), whose backends it
// terminates, and which it restarts. The shared server on 5432 is never used.

const OPERATION_TIMEOUT_MS = 500;
const CONNECT_TIMEOUT_MS = 500;
const MAX = 4;
/** Generous bound on the time one failing operation may take (A30). */
const FAIL_WITHIN_MS = OPERATION_TIMEOUT_MS + 1_000;
const APPLICATION = "sessionkit";

const run = promisify(execFile);

/** The directory holding initdb, postgres and pg_isready of one PostgreSQL version. */
function binDir(): string {
  const candidates = ["/usr/local/bin/initdb"];
  try {
    candidates.push(execFileSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).trim());
  } catch {
    // Not on PATH.
  }
  for (const version of ["17", "16", "15", "14", "13"]) {
    candidates.push(`/usr/lib/postgresql/${version}/bin/initdb`);
  }
  for (const candidate of candidates) {
    if (candidate !== "" && existsSync(candidate)) return dirname(realpathSync(candidate));
  }
  throw new Error("initdb not found (install the PostgreSQL server binaries)");
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` OS user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  return { uid, gid };
}

/** One PostgreSQL cluster: a postmaster child process on a fixed port across restarts. */
class OwnPostgres {
  readonly dir = mkdtempSync(join(tmpdir(), "sk-pg-faults-"));
  readonly data = join(this.dir, "data");
  readonly bin = binDir();
  readonly user = serverUser();
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #frozen = new Set<number>();
  #log = "";

  constructor(readonly port: number) {
    if (this.user !== undefined) chownSync(this.dir, this.user.uid, this.user.gid);
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  async init(): Promise<void> {
    await run(
      join(this.bin, "initdb"),
      ["-D", this.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"],
      { cwd: this.dir, ...this.user },
    );
  }

  /** Starts the postmaster; resolves once pg_isready reports it accepting connections. */
  async start(): Promise<void> {
    this.#log = "";
    const child = spawn(
      join(this.bin, "postgres"),
      [
        "-D",
        this.data,
        "-p",
        String(this.port),
        "-k",
        this.dir,
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
      ],
      { cwd: this.dir, stdio: ["ignore", "ignore", "pipe"], ...this.user },
    );
    child.stderr?.on("data", (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString()).slice(-4_000);
    });
    this.#child = child;
    this.#exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const early = new Promise<never>((_, reject) => {
      child.once("error", (error) => reject(new Error(`cannot start postgres: ${error.message}`)));
      child.once("exit", (code, signal) =>
        reject(new Error(`postgres exited during start-up (${code ?? signal}): ${this.#log}`)),
      );
    });
    early.catch(() => {});
    await Promise.race([
      waitUntil(`postgres on port ${this.port}`, async () => {
        await run(join(this.bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(this.port)]);
        return true;
      }),
      early,
    ]);
  }

  /** SIGSTOP of the postmaster, then of every one of its children (backends included). */
  async freeze(): Promise<number> {
    const postmaster = this.#child?.pid;
    if (postmaster === undefined) throw new Error("postgres is not running");
    this.#signal(postmaster, "SIGSTOP");
    this.#frozen.add(postmaster);
    // The postmaster is stopped, so it forks no new children meanwhile.
    const { stdout } = await run("pgrep", ["-P", String(postmaster)]).catch(() => ({
      stdout: "",
    }));
    for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) {
      this.#signal(pid, "SIGSTOP");
      this.#frozen.add(pid);
    }
    return this.#frozen.size;
  }

  /** SIGCONT to everything frozen (harmless when nothing is). */
  thaw(): void {
    for (const pid of this.#frozen) this.#signal(pid, "SIGCONT");
    this.#frozen.clear();
  }

  /** Fast shutdown (what `pg_ctl -m fast stop` sends), resolved once the postmaster exited. */
  async stop(): Promise<void> {
    this.thaw();
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    this.#signal(pid, "SIGINT");
    const lingering = setTimeout(() => this.#signal(pid, "SIGQUIT"), 10_000);
    await this.#exited;
    clearTimeout(lingering);
    this.#child = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Synchronous last resort at process exit: never leave a stopped cluster behind. */
  killNow(): void {
    this.thaw();
    const pid = this.#child?.pid;
    if (pid !== undefined) this.#signal(pid, "SIGQUIT");
  }

  #signal(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

let server: OwnPostgres;
let admin: pg.Pool;
const killOnExit = () => server?.killNow();
const opened: { store: PostgresStore; pool: pg.Pool }[] = [];

// Trapped per test: a store must never leave a rejection unhandled or throw
// from a timer or an event, whatever the server does (A30).
const escaped: unknown[] = [];
const trap = (reason: unknown) => {
  escaped.push(reason);
};

beforeAll(async () => {
  process.on("exit", killOnExit);
  server = new OwnPostgres(await freePort());
  await server.init();
  await server.start();
  admin = new pg.Pool({
    host: "127.0.0.1",
    port: server.port,
    user: "postgres",
    database: "postgres",
    application_name: "sk-admin",
    max: 1,
  });
  admin.on("error", () => {
    // Restarting the server kills this pool's idle connection on purpose.
  });
  const setup = createPostgresStore({ pool: admin, gcIntervalMs: false });
  await setup.migrate();
  await setup.close();
});

beforeEach(() => {
  escaped.length = 0;
  process.on("unhandledRejection", trap);
  process.on("uncaughtException", trap);
});

afterEach(async () => {
  server.thaw();
  for (const { store, pool } of opened.splice(0)) {
    await store.close();
    await pool.end();
  }
  // Let rejections of this test's last operations surface before checking.
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.off("unhandledRejection", trap);
  process.off("uncaughtException", trap);
  expect(escaped).toEqual([]);
});

afterAll(async () => {
  await admin?.end();
  await server?.dispose();
  process.off("exit", killOnExit);
});

/** A store on a pool of our own (to inspect it), with every timeout set on the pool. */
function newStore(): { store: PostgresStore; pool: pg.Pool; idleErrors: SessionError[] } {
  const pool = new pg.Pool({
    host: "127.0.0.1",
    port: server.port,
    user: "postgres",
    database: "postgres",
    application_name: APPLICATION,
    max: MAX,
    statement_timeout: OPERATION_TIMEOUT_MS,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: OPERATION_TIMEOUT_MS + 500,
  });
  const idleErrors: SessionError[] = [];
  // No listener of our own on the pool: the store must attach its own (A30).
  const store = createPostgresStore({
    pool,
    operationTimeoutMs: OPERATION_TIMEOUT_MS,
    gcIntervalMs: false,
    onError: (error) => idleErrors.push(error),
  });
  opened.push({ store, pool });
  return { store, pool, idleErrors };
}

/** 2 × max concurrent operations of every kind, all of which must succeed. */
async function burst(store: PostgresStore): Promise<void> {
  const operations: Promise<unknown>[] = [];
  for (let i = 0; i < 2 * MAX; i++) {
    const key = randomKey();
    operations.push(i % 2 === 0 ? store.set(key, makeRecord(), { ifVersion: 0 }) : store.get(key));
  }
  await Promise.all(operations);
}

/**
 * No leaked pool clients (A32): nothing waits, the pool stays within max and,
 * once a burst of more operations than max has succeeded (it could not with a
 * leaked client), every client is back in the pool, idle.
 */
async function expectPoolHealthy(store: PostgresStore, pool: pg.Pool): Promise<void> {
  expect(pool.waitingCount).toBe(0);
  expect(pool.totalCount).toBeLessThanOrEqual(MAX);
  await burst(store);
  expect(pool.waitingCount).toBe(0);
  expect(pool.totalCount).toBeLessThanOrEqual(MAX);
  // A query that core's deadline answered during a freeze may release its
  // client a moment after the burst: wait for it (a leaked client never comes back).
  await expect.poll(() => pool.idleCount - pool.totalCount, { timeout: FAIL_WITHIN_MS }).toBe(0);
  expect(pool.idleCount).toBeGreaterThanOrEqual(1);
}

describe("postgres store against a PostgreSQL cluster that is frozen, killed and restarted (A30, A32)", () => {
  it("SIGSTOP of the postmaster and its backends: get, set and more operations than the pool holds fail with STORE_TIMEOUT within operationTimeoutMs + 1 s, and after SIGCONT the store recovers with no leaked pool client (A30, A32)", async () => {
    const { store, pool } = newStore();
    const key = randomKey();
    const record = makeRecord({ userId: "u-sigstop" });
    expect(await store.set(key, record, { ifVersion: 0 })).toBe(true);
    await burst(store);
    expect(pool.totalCount).toBeGreaterThanOrEqual(2);
    try {
      expect(await server.freeze()).toBeGreaterThanOrEqual(1 + pool.totalCount);
      const [getError, getTime] = await timedFailure(() => store.get(key));
      const [setError, setTime] = await timedFailure(() =>
        store.set(randomKey(), makeRecord(), { ifVersion: 0 }),
      );
      for (const [error, operation] of [
        [getError, "get"],
        [setError, "set"],
      ] as const) {
        expect(error).toMatchObject({
          code: "STORE_TIMEOUT",
          store: "postgres",
          operation,
          retryable: true,
          httpStatus: 503,
        });
      }
      expect(getTime).toBeLessThan(FAIL_WITHIN_MS);
      expect(setTime).toBeLessThan(FAIL_WITHIN_MS);
      // More at once than the pool has clients: the ones that wait for a
      // client must time out too, not queue behind the frozen server.
      const started = performance.now();
      const outcomes = await Promise.allSettled(
        Array.from({ length: 3 * MAX }, (_, i) =>
          i % 2 === 0
            ? store.get(randomKey())
            : store.set(randomKey(), makeRecord(), { ifVersion: 0 }),
        ),
      );
      const elapsed = performance.now() - started;
      for (const outcome of outcomes) {
        expect(outcome.status).toBe("rejected");
        if (outcome.status === "rejected") {
          expect(outcome.reason).toMatchObject({ name: "SessionError", code: "STORE_TIMEOUT" });
        }
      }
      expect(elapsed).toBeLessThan(FAIL_WITHIN_MS);
      // Core's deadline answered the callers; the pool drops their requests
      // for a client at its own connectionTimeoutMillis, a moment later.
      await expect.poll(() => pool.waitingCount, { timeout: CONNECT_TIMEOUT_MS + 500 }).toBe(0);
    } finally {
      server.thaw();
    }
    await untilRecovered(() => store.count());
    expect((await store.get(key))?.payload).toBe(record.payload);
    await expectPoolHealthy(store, pool);
  });

  it("pg_terminate_backend of every store connection: the next operation fails typed or reconnects, the store works again by itself, and no pool client leaks (A30, A32)", async () => {
    const { store, pool, idleErrors } = newStore();
    const key = randomKey();
    const record = makeRecord();
    expect(await store.set(key, record, { ifVersion: 0 })).toBe(true);
    await burst(store);
    const connected = pool.totalCount;
    expect(connected).toBeGreaterThanOrEqual(2);
    const terminated = await admin.query<{ done: boolean }>(
      "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1",
      [APPLICATION],
    );
    expect(terminated.rows.filter((row) => row.done)).toHaveLength(connected);
    // Right away, while the pool may still hold the dead connections.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 2 * MAX }, () => store.get(key)),
    );
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") {
        expect(outcome.value?.payload).toBe(record.payload);
      } else {
        expect(isSessionError(outcome.reason)).toBe(true);
        expect(["STORE_UNAVAILABLE", "STORE_TIMEOUT"]).toContain(
          (outcome.reason as SessionError).code,
        );
      }
    }
    await untilRecovered(() => store.count());
    expect((await store.get(key))?.payload).toBe(record.payload);
    // Idle connections the server killed were reported through onError, typed.
    for (const error of idleErrors) expect(error.code).toBe("STORE_UNAVAILABLE");
    await expectPoolHealthy(store, pool);
  });

  it("fast shutdown and restart of the cluster: operations fail typed within operationTimeoutMs + 1 s while it is down, the store recovers by itself, and no write refused meanwhile appears (A30, A32, A18)", async () => {
    const { store, pool } = newStore();
    const before = randomKey();
    const record = makeRecord();
    expect(await store.set(before, record, { ifVersion: 0 })).toBe(true);
    await burst(store);
    const refused: string[] = [];
    try {
      await server.stop();
      for (let round = 0; round < 3; round++) {
        const [getError, getTime] = await timedFailure(() => store.get(before));
        const key = randomKey();
        const [setError, setTime] = await timedFailure(() =>
          store.set(key, makeRecord(), { ifVersion: 0 }),
        );
        refused.push(key);
        for (const error of [getError, setError]) {
          expect(["STORE_UNAVAILABLE", "STORE_TIMEOUT"]).toContain(error.code);
          expect(error.retryable).toBe(true);
        }
        expect(getTime).toBeLessThan(FAIL_WITHIN_MS);
        expect(setTime).toBeLessThan(FAIL_WITHIN_MS);
      }
      expect(pool.waitingCount).toBe(0);
    } finally {
      if (!server.running) await server.start();
    }
    await untilRecovered(() => store.count());
    // A clean shutdown keeps committed data.
    expect((await store.get(before))?.payload).toBe(record.payload);
    for (const key of refused) expect(await store.get(key)).toBeNull();
    const after = randomKey();
    expect(await store.set(after, makeRecord(), { ifVersion: 0 })).toBe(true);
    expect(await store.get(after)).not.toBeNull();
    await expectPoolHealthy(store, pool);
  });
});
