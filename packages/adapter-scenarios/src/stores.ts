import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getPostgresUrl, getRedisUrl, uniqueName } from "@sessionkit/conformance";
import type { SessionStore } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { createPostgresStore } from "@sessionkit/store-postgres";
import { createRedisStore } from "@sessionkit/store-redis";
import { createSqliteStore } from "@sessionkit/store-sqlite";
import pg from "pg";

/** A store the scenarios run against. */
export interface StoreCase {
  readonly name: string;
  create(): Promise<SessionStore>;
  /** A store of the same kind whose server is down; absent where a store cannot be down. */
  createDown?(): Promise<SessionStore>;
  dispose(store: SessionStore): Promise<void>;
}

const TOPOLOGY_HELP =
  'run eval "$(bash scripts/redis-topologies.sh up)" at the repository root first';

/** A variable the Redis Cluster and Sentinel cases need: missing, the case fails (never skips). */
function requiredEnv(name: "REDIS_CLUSTER_URLS" | "REDIS_SENTINEL_URL"): string {
  const value = process.env[name] ?? "";
  if (value === "") throw new Error(`${name} is not set: ${TOPOLOGY_HELP}`);
  return value;
}

/**
 * Health check with a deadline: resolves once the store answers a read, so a
 * topology still electing or connecting fails no scenario; rejects with the
 * last error after `deadlineMs`.
 */
async function answering(store: SessionStore, deadlineMs = 20_000): Promise<SessionStore> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      await store.get("0".repeat(64));
      return store;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function disposeRedis(store: SessionStore): Promise<void> {
  await store.clear?.().catch(() => {});
  await store.close?.();
}

/**
 * Memory, SQLite, Redis (standalone, Cluster from `REDIS_CLUSTER_URLS`,
 * Sentinel from `REDIS_SENTINEL_URL`) and PostgreSQL, each isolated per call.
 */
export function storeCases(): StoreCase[] {
  const sqliteDirs = new Map<SessionStore, string>();
  const pgSchemas = new Map<SessionStore, string>();
  return [
    {
      name: "memory",
      create: async () => createMemoryStore({ gcIntervalMs: false }),
      dispose: async (store) => store.close?.(),
    },
    {
      name: "sqlite",
      async create() {
        const dir = mkdtempSync(join(tmpdir(), "sk_scenarios_"));
        const store = createSqliteStore({
          url: `sqlite:${join(dir, "sessions.db")}`,
          gcIntervalMs: false,
        });
        sqliteDirs.set(store, dir);
        return store;
      },
      async createDown() {
        // A closed database: every operation fails with STORE_UNAVAILABLE.
        const store = createSqliteStore({ url: "sqlite::memory:", gcIntervalMs: false });
        await store.close();
        return store;
      },
      async dispose(store) {
        await store.close?.().catch(() => {});
        const dir = sqliteDirs.get(store);
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      },
    },
    {
      name: "redis",
      create: async () =>
        answering(createRedisStore({ url: await getRedisUrl(), prefix: `${uniqueName("scn")}:` })),
      // Nothing listens on port 1: connections are refused at once.
      createDown: async () =>
        createRedisStore({ url: "redis://127.0.0.1:1", operationTimeoutMs: 500 }),
      dispose: disposeRedis,
    },
    {
      name: "redis-cluster",
      async create() {
        // redis://host:port,redis://host:port → redis+cluster://host:port,host:port
        const hosts = requiredEnv("REDIS_CLUSTER_URLS")
          .split(",")
          .map((url) => new URL(url.trim()).host)
          .join(",");
        return answering(
          createRedisStore({ url: `redis+cluster://${hosts}`, prefix: uniqueName("scn") }),
        );
      },
      dispose: disposeRedis,
    },
    {
      name: "redis-sentinel",
      create: async () =>
        answering(
          createRedisStore({ url: requiredEnv("REDIS_SENTINEL_URL"), prefix: uniqueName("scn") }),
        ),
      dispose: disposeRedis,
    },
    {
      name: "postgres",
      async create() {
        const schema = uniqueName("scn");
        const store = createPostgresStore({
          url: await getPostgresUrl(),
          schema,
          migrate: "auto",
          gcIntervalMs: false,
        });
        pgSchemas.set(store, schema);
        return store;
      },
      createDown: async () =>
        createPostgresStore({
          url: "postgres://postgres@127.0.0.1:1/test",
          operationTimeoutMs: 500,
          gcIntervalMs: false,
        }),
      async dispose(store) {
        await store.close?.();
        const schema = pgSchemas.get(store);
        if (schema === undefined) return;
        const admin = new pg.Client({ connectionString: await getPostgresUrl() });
        await admin.connect();
        try {
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await admin.end();
        }
      },
    },
  ];
}
