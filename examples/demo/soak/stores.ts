// The three stores under soak, each with its fault: a FaultProxy black-hole in
// front of Redis and PostgreSQL, another connection holding the write lock for SQLite.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { FaultProxy, uniqueName } from "@sessionkit/conformance";
import type { SessionStore } from "@sessionkit/core";
import { createPostgresStore } from "@sessionkit/store-postgres";
import { createRedisStore } from "@sessionkit/store-redis";
import { createSqliteStore } from "@sessionkit/store-sqlite";
import type { SoakOptions, StoreName } from "./options.js";

/** A store opened for one soak run, with its fault switch. */
export interface SoakStore {
  readonly name: StoreName;
  readonly store: SessionStore;
  /** What the fault is, for the report. */
  readonly fault: string;
  /**
   * Longest any request may take, in ms: the store's own bound on a failing
   * call plus 1 s. A slower request counts as a hang.
   */
  readonly latencyBoundMs: number;
  /** Starts the fault; `holdMs` is how long it is meant to last. */
  injectFault(holdMs: number): Promise<void>;
  /** Ends the fault; resolves with the epoch ms at which it actually ended. */
  healFault(): Promise<number>;
  /** Heals, closes the store and removes what the run left behind. */
  close(): Promise<void>;
}

/** Store-call timeout used for Redis and PostgreSQL, in ms. */
const TIMEOUT_MS = 1_000;
/** SQLite `busy_timeout`: better-sqlite3 waits synchronously, blocking the event loop that long. */
const SQLITE_BUSY_TIMEOUT_MS = 100;

const require = createRequire(import.meta.url);

// The demo depends on pg but not on @types/pg: type the calls used here.
interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}
const { Client } = require("pg") as {
  Client: new (config: { connectionString: string }) => PgClient;
};

export function openSoakStore(name: StoreName, options: SoakOptions): Promise<SoakStore> {
  switch (name) {
    case "sqlite":
      return Promise.resolve(openSqlite(options.clients));
    case "redis":
      return openRedis(options.redisUrl);
    case "postgres":
      return openPostgres(options.databaseUrl);
  }
}

function openSqlite(clients: number): SoakStore {
  const dir = mkdtempSync(join(tmpdir(), "sessionkit-soak-"));
  const path = join(dir, "sessions.db");
  const store = createSqliteStore({
    url: `sqlite:${path}`,
    operationTimeoutMs: SQLITE_BUSY_TIMEOUT_MS,
    gcIntervalMs: false,
  });
  let locker: { worker: Worker; released: Promise<number> } | undefined;
  const heal = async (): Promise<number> => {
    if (locker === undefined) return Date.now();
    const { worker, released } = locker;
    locker = undefined;
    worker.postMessage("release");
    try {
      return await released;
    } finally {
      await worker.terminate();
    }
  };
  return {
    name: "sqlite",
    store,
    fault: "another connection (thread) holds BEGIN IMMEDIATE",
    // Every write waiting for the lock blocks the one event loop for busy_timeout,
    // so with N clients writing, a request can wait about N × busy_timeout; plus 1 s.
    latencyBoundMs: clients * SQLITE_BUSY_TIMEOUT_MS + 1_000,
    async injectFault(holdMs) {
      // The lock is held and released by a worker thread on its own timer: the
      // app's event loop, blocked by writes waiting for the lock, cannot delay it.
      const worker = new Worker(LOCKER_SOURCE, {
        eval: true,
        workerData: { module: require.resolve("better-sqlite3"), path, holdMs },
      });
      let onLocked: () => void = () => {};
      const locked = new Promise<void>((resolve) => {
        onLocked = resolve;
      });
      const released = new Promise<number>((resolve, reject) => {
        worker.on("message", (message: { type: string; at: number }) => {
          if (message.type === "locked") onLocked();
          else resolve(message.at);
        });
        worker.once("error", reject);
        worker.once("exit", () => reject(new Error("the SQLite locker exited without releasing")));
      });
      released.catch(() => {}); // awaited by heal(); never an unhandled rejection
      locker = { worker, released };
      await Promise.race([locked, released]);
    },
    healFault: heal,
    async close() {
      await heal();
      await store.close?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The SQLite lock holder, run as a CommonJS worker (`eval`). */
const LOCKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.path, { timeout: 5000 });
db.exec("BEGIN IMMEDIATE");
parentPort.postMessage({ type: "locked", at: Date.now() });
let released = false;
const release = () => {
  if (released) return;
  released = true;
  clearTimeout(timer);
  db.exec("COMMIT");
  db.close();
  parentPort.postMessage({ type: "released", at: Date.now() });
};
const timer = setTimeout(release, workerData.holdMs);
parentPort.on("message", release);
`;

async function openRedis(redisUrl: string): Promise<SoakStore> {
  const target = new URL(redisUrl);
  const proxy = await FaultProxy.start({
    host: target.hostname === "localhost" ? "127.0.0.1" : target.hostname,
    port: Number(target.port || 6379),
  });
  const url = new URL(redisUrl);
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  const store = createRedisStore({
    url: url.toString(),
    prefix: uniqueName("soak"),
    operationTimeoutMs: TIMEOUT_MS,
  });
  return {
    name: "redis",
    store,
    fault: "FaultProxy black-hole",
    // One request makes at most one failing store call (it answers 503 at the first).
    latencyBoundMs: TIMEOUT_MS + 1_000,
    injectFault: () => proxy.inject("black-hole"),
    async healFault() {
      await proxy.inject("none");
      return Date.now();
    },
    async close() {
      await proxy.inject("none");
      try {
        await store.clear?.();
      } finally {
        await store.close?.();
        await proxy.close();
      }
    },
  };
}

async function openPostgres(databaseUrl: string): Promise<SoakStore> {
  const schema = uniqueName("soak")
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_");
  // Create the schema and migrate directly, not through the proxy.
  const direct = new Client({ connectionString: databaseUrl });
  await direct.connect();
  try {
    await direct.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await direct.end();
  }
  const migrator = createPostgresStore({
    url: databaseUrl,
    schema,
    gcIntervalMs: false,
  });
  try {
    await migrator.migrate();
  } finally {
    await migrator.close?.();
  }

  const target = new URL(databaseUrl);
  const proxy = await FaultProxy.start({
    host: target.hostname === "localhost" ? "127.0.0.1" : target.hostname,
    port: Number(target.port || 5432),
  });
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  const store = createPostgresStore({
    url: url.toString(),
    schema,
    operationTimeoutMs: TIMEOUT_MS,
    gcIntervalMs: false,
  });
  return {
    name: "postgres",
    store,
    fault: "FaultProxy black-hole",
    // Every store call is bounded by operationTimeoutMs (core's deadline), plus 1 s.
    latencyBoundMs: TIMEOUT_MS + 1_000,
    injectFault: () => proxy.inject("black-hole"),
    async healFault() {
      await proxy.inject("none");
      return Date.now();
    },
    async close() {
      await proxy.inject("none");
      try {
        await store.close?.();
        await proxy.close();
      } finally {
        const client = new Client({ connectionString: databaseUrl });
        await client.connect();
        try {
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await client.end();
        }
      }
    },
  };
}
