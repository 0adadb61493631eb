import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SessionStore } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { createPostgresStore } from "@sessionkit/store-postgres";
import { createRedisStore } from "@sessionkit/store-redis";
import { createSqliteStore } from "@sessionkit/store-sqlite";
import Database from "better-sqlite3";
import betterSqliteSessionStore from "better-sqlite3-session-store";
import connectPgSimple from "connect-pg-simple";
import { RedisStore as RedisStore9 } from "connect-redis";
import { RedisStore as RedisStore8 } from "connect-redis-8";
import session, { type Store } from "express-session";
import { Redis, type RedisOptions } from "ioredis";
import pg from "pg";
import { createClient } from "redis";
import {
  noRoundTrips,
  patchSqlite,
  postgresCounter,
  type RoundTripCounter,
  redisCounter,
  sqliteCounter,
} from "./counters.js";
import { peerSubject } from "./peer-subject.js";
import { type RawClient, rawSubject } from "./raw-subject.js";
import { sessionkitSubject } from "./sessionkit-subject.js";
import { type Backend, clientSuffix, type RedisClientKind, type Subject } from "./subject.js";

export type SubjectFactory = () => Promise<Subject>;

/** Unique names of this run: key prefixes, a schema, a temporary directory. */
export interface ServiceNames {
  readonly runId: string;
  readonly redisUrl: string;
  readonly databaseUrl: string;
  readonly schema: string;
  readonly sqliteDir: string;
}

/** The names, and the cleanup of everything created under them. */
export interface Services extends ServiceNames {
  close(): Promise<void>;
}

export type PeerKind =
  | "memory"
  | "better-sqlite3-session-store"
  | "connect-redis@8"
  | "connect-redis@9"
  | "connect-pg-simple";

export async function openServices(redisUrl: string, databaseUrl: string): Promise<Services> {
  patchSqlite();
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const schema = `bench_${runId}`;
  const sqliteDir = mkdtempSync(join(tmpdir(), "sessionkit-bench-"));
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const services: Services = {
    runId,
    redisUrl,
    databaseUrl,
    schema,
    sqliteDir,
    async close() {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
      await deleteRedisKeys(redisUrl, [`bench:${runId}:*`, `{bench:${runId}:*`]);
      rmSync(sqliteDir, { recursive: true, force: true });
    },
  };
  return services;
}

/** Deletes this run's keys by SCAN over its unique prefixes (never FLUSHDB). */
async function deleteRedisKeys(redisUrl: string, patterns: readonly string[]): Promise<void> {
  const client = new Redis(redisUrl);
  try {
    for (const pattern of patterns) {
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        if (keys.length > 0) await client.unlink(...keys);
        cursor = next;
      } while (cursor !== "0");
    }
  } finally {
    client.disconnect();
  }
}

/** Every SQLite subject gets its own file, in WAL mode with synchronous=NORMAL. */
function openSqlite(services: ServiceNames): Database.Database {
  const db = new Database(join(services.sqliteDir, `bench-${process.pid}-${randomUUID()}.db`));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  return db;
}

function ioredisClient(
  services: ServiceNames,
  options: RedisOptions = { enableOfflineQueue: true },
): { client: Redis; counter: RoundTripCounter } {
  const client = new Redis(services.redisUrl, options);
  const counter = redisCounter(services.redisUrl, ([command, ...args]) =>
    client.call(command as string, ...args),
  );
  return { client, counter };
}

/** A peer store, the same way for the store benchmarks and the HTTP apps. `tag` keeps their keys and tables apart. */
export async function openPeerStore(
  services: ServiceNames,
  kind: PeerKind,
  tag = "store",
): Promise<{ store: Store; close(): Promise<void>; counter: RoundTripCounter }> {
  switch (kind) {
    case "memory":
      return { store: new session.MemoryStore(), close: async () => {}, counter: noRoundTrips };
    case "better-sqlite3-session-store": {
      const db = openSqlite(services);
      const SqliteStore = betterSqliteSessionStore(session);
      // Its expiry timer is neither kept nor unref'ed: unref it so the process can exit.
      const setIntervalBefore = globalThis.setInterval;
      globalThis.setInterval = ((...args: Parameters<typeof setInterval>) =>
        setIntervalBefore(...args).unref()) as typeof setInterval;
      let store: Store;
      try {
        store = new SqliteStore({ client: db, expired: { clear: true, intervalMs: 3_600_000 } });
      } finally {
        globalThis.setInterval = setIntervalBefore;
      }
      return { store, close: async () => void db.close(), counter: sqliteCounter() };
    }
    case "connect-redis@8": {
      const { client, counter } = ioredisClient(services);
      const store = new RedisStore8({ client, prefix: `bench:${services.runId}:${tag}-cr8:` });
      return { store, close: async () => void client.disconnect(), counter };
    }
    case "connect-redis@9": {
      const client = createClient({ url: services.redisUrl });
      await client.connect();
      const counter = redisCounter(services.redisUrl, (args) => client.sendCommand(args));
      const store = new RedisStore9({ client, prefix: `bench:${services.runId}:${tag}-cr9:` });
      return { store, close: async () => void client.destroy(), counter };
    }
    case "connect-pg-simple": {
      const pool = new pg.Pool({ connectionString: services.databaseUrl });
      const PgStore = connectPgSimple(session);
      const store = new PgStore({
        pool,
        schemaName: services.schema,
        // One table for every use: its constraint name (session_pkey) is per schema.
        tableName: "session",
        createTableIfMissing: true,
        pruneSessionInterval: false,
      });
      return { store, close: () => pool.end(), counter: postgresCounter() };
    }
  }
}

/**
 * A sessionkit store on a backend, with its background timers off; on Redis,
 * through the client library `redisClient` (ioredis unless told otherwise).
 */
export async function openSessionkitStore(
  services: ServiceNames,
  backend: Backend,
  tag = "store",
  redisClient: RedisClientKind = "ioredis",
): Promise<{ store: SessionStore; counter: RoundTripCounter; close(): Promise<void> }> {
  switch (backend) {
    case "memory": {
      const store = createMemoryStore({ maxEntries: 1_000_000, gcIntervalMs: false });
      return { store, counter: noRoundTrips, close: async () => {} };
    }
    case "sqlite": {
      const db = openSqlite(services);
      const store = createSqliteStore({ database: db, gcIntervalMs: false });
      const close = async () => {
        await store.close();
        db.close();
      };
      return { store, counter: sqliteCounter(), close };
    }
    case "redis": {
      if (redisClient === "node-redis") {
        // As the store's README shows it; connect-redis 9 gets node-redis's defaults.
        const client = createClient({ url: services.redisUrl, disableOfflineQueue: true });
        await client.connect();
        const counter = redisCounter(services.redisUrl, (args) => client.sendCommand(args));
        const store = createRedisStore({ client, prefix: `bench:${services.runId}:${tag}-skn` });
        const close = async () => {
          await store.clear();
          await store.close();
          client.destroy();
        };
        return { store, counter, close };
      }
      // The client settings the store's README recommends for a client of your own;
      // the peers on ioredis (connect-redis 8) get ioredis's defaults, as their docs show.
      const { client, counter } = ioredisClient(services, { enableOfflineQueue: false });
      if (client.status !== "ready") await once(client, "ready");
      const store = createRedisStore({ client, prefix: `bench:${services.runId}:${tag}-sk` });
      const close = async () => {
        await store.clear();
        await store.close();
        client.disconnect();
      };
      return { store, counter, close };
    }
    case "postgres": {
      const pool = new pg.Pool({ connectionString: services.databaseUrl });
      const store = createPostgresStore({
        pool,
        schema: services.schema,
        table: `${tag}_sessionkit`,
        gcIntervalMs: false,
      });
      await store.migrate();
      const close = async () => {
        await store.close();
        await pool.end();
      };
      return { store, counter: postgresCounter(), close };
    }
  }
}

function sessionkit(
  services: Services,
  backend: Backend,
  redisClient: RedisClientKind = "ioredis",
): SubjectFactory {
  return async () => {
    const { store, counter, close } = await openSessionkitStore(
      services,
      backend,
      "store",
      redisClient,
    );
    return sessionkitSubject(
      backend,
      store,
      counter,
      close,
      `sessionkit${clientSuffix(redisClient)}`,
    );
  };
}

function peer(services: Services, backend: Backend, kind: PeerKind): SubjectFactory {
  return async () => {
    const { store, close, counter } = await openPeerStore(services, kind);
    return peerSubject(
      kind === "memory" ? "express-session MemoryStore" : kind,
      backend,
      store,
      counter,
      close,
    );
  };
}

/** Every subject of a backend: sessionkit, the peers, and the raw client. */
export function subjectsFor(services: Services, backend: Backend): SubjectFactory[] {
  switch (backend) {
    case "memory":
      return [
        sessionkit(services, "memory"),
        peer(services, "memory", "memory"),
        async () => rawSubject("raw Map", "memory", mapClient(), noRoundTrips, async () => {}),
      ];
    case "sqlite":
      return [
        sessionkit(services, "sqlite"),
        peer(services, "sqlite", "better-sqlite3-session-store"),
        async () => {
          const db = openSqlite(services);
          return rawSubject(
            "raw better-sqlite3",
            "sqlite",
            sqliteClient(db),
            sqliteCounter(),
            async () => void db.close(),
          );
        },
      ];
    case "redis":
      return [
        sessionkit(services, "redis"),
        sessionkit(services, "redis", "node-redis"),
        peer(services, "redis", "connect-redis@8"),
        peer(services, "redis", "connect-redis@9"),
        async () => {
          const { client, counter } = ioredisClient(services);
          const raw = redisClient(client, `bench:${services.runId}:raw:`);
          return rawSubject(
            "raw ioredis",
            "redis",
            raw,
            counter,
            async () => void client.disconnect(),
          );
        },
      ];
    case "postgres":
      return [
        sessionkit(services, "postgres"),
        peer(services, "postgres", "connect-pg-simple"),
        async () => {
          const pool = new pg.Pool({ connectionString: services.databaseUrl });
          const raw = await postgresClient(pool, services.schema);
          return rawSubject("raw pg", "postgres", raw, postgresCounter(), () => pool.end());
        },
      ];
  }
}

function mapClient(): RawClient {
  const rows = new Map<string, { payload: string; expiresAt: number }>();
  return {
    async get(key) {
      return rows.get(key)?.payload;
    },
    async insert(key, payload, expiresAt) {
      rows.set(key, { payload, expiresAt });
    },
    async update(key, payload, expiresAt) {
      rows.set(key, { payload, expiresAt });
    },
    async touch(key, expiresAt) {
      const row = rows.get(key);
      if (row !== undefined) row.expiresAt = expiresAt;
    },
    async destroy(key) {
      rows.delete(key);
    },
  };
}

function sqliteClient(db: Database.Database): RawClient {
  db.exec(
    "CREATE TABLE raw_sessions (key TEXT PRIMARY KEY NOT NULL, payload TEXT NOT NULL, expires_at INTEGER NOT NULL)",
  );
  const get = db.prepare<[string, number], { payload: string }>(
    "SELECT payload FROM raw_sessions WHERE key = ? AND expires_at > ?",
  );
  const insert = db.prepare("INSERT INTO raw_sessions (key, payload, expires_at) VALUES (?, ?, ?)");
  const update = db.prepare("UPDATE raw_sessions SET payload = ?, expires_at = ? WHERE key = ?");
  const touch = db.prepare("UPDATE raw_sessions SET expires_at = ? WHERE key = ?");
  const destroy = db.prepare("DELETE FROM raw_sessions WHERE key = ?");
  return {
    async get(key) {
      return get.get(key, Date.now())?.payload;
    },
    async insert(key, payload, expiresAt) {
      insert.run(key, payload, expiresAt);
    },
    async update(key, payload, expiresAt) {
      update.run(payload, expiresAt, key);
    },
    async touch(key, expiresAt) {
      touch.run(expiresAt, key);
    },
    async destroy(key) {
      destroy.run(key);
    },
  };
}

function redisClient(client: Redis, prefix: string): RawClient {
  return {
    get: (key) => client.get(prefix + key),
    async insert(key, payload, expiresAt) {
      await client.set(prefix + key, payload, "PXAT", expiresAt);
    },
    async update(key, payload, expiresAt) {
      await client.set(prefix + key, payload, "PXAT", expiresAt);
    },
    async touch(key, expiresAt) {
      await client.pexpireat(prefix + key, expiresAt);
    },
    async destroy(key) {
      await client.del(prefix + key);
    },
  };
}

async function postgresClient(pool: pg.Pool, schema: string): Promise<RawClient> {
  const table = `"${schema}"."raw_sessions"`;
  await pool.query(
    `CREATE TABLE ${table} (key text PRIMARY KEY, payload text NOT NULL, expires_at bigint NOT NULL)`,
  );
  // Named statements: parsed once per connection, then one Bind/Execute round trip each.
  const q = (name: string, text: string, values: unknown[]) =>
    pool.query({ name: `raw_${name}`, text, values });
  return {
    async get(key) {
      const result = await q(
        "get",
        `SELECT payload FROM ${table} WHERE key = $1 AND expires_at > $2`,
        [key, Date.now()],
      );
      return (result.rows[0] as { payload: string } | undefined)?.payload;
    },
    async insert(key, payload, expiresAt) {
      await q("insert", `INSERT INTO ${table} (key, payload, expires_at) VALUES ($1, $2, $3)`, [
        key,
        payload,
        expiresAt,
      ]);
    },
    async update(key, payload, expiresAt) {
      await q("update", `UPDATE ${table} SET payload = $2, expires_at = $3 WHERE key = $1`, [
        key,
        payload,
        expiresAt,
      ]);
    },
    async touch(key, expiresAt) {
      await q("touch", `UPDATE ${table} SET expires_at = $2 WHERE key = $1`, [key, expiresAt]);
    },
    async destroy(key) {
      await q("destroy", `DELETE FROM ${table} WHERE key = $1`, [key]);
    },
  };
}
