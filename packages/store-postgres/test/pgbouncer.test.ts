import { makeRecord, randomKey, uniqueName } from "@sessionkit/conformance";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresStore, type PostgresStore, postgresProvider } from "../src/index.js";
import { createSchema, dropSchema, getPgBouncerUrl, openAdminPool, tableOf } from "./helpers.js";

// The store behind PgBouncer in transaction pooling mode (pooler: "transaction").
// The conformance suite, the failure group and gc also run through PgBouncer
// (pgbouncer-conformance, pgbouncer-failure-group and gc test files).

let admin: pg.Pool;
let bouncerUrl: string;
let schema: string;

beforeAll(async () => {
  admin = await openAdminPool();
  bouncerUrl = await getPgBouncerUrl();
  schema = await createSchema(admin);
});
afterAll(async () => {
  await dropSchema(admin, schema);
  await admin.end();
});

async function rawCount(store: PostgresStore): Promise<number> {
  const result = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${tableOf(store)}`);
  return Number(result.rows[0]?.n);
}

function bouncerStore(
  options: { table: string; pool?: pg.Pool } & Record<string, unknown>,
): PostgresStore {
  const { pool, ...rest } = options;
  return createPostgresStore({
    ...(pool === undefined ? { url: bouncerUrl } : { pool }),
    pooler: "transaction",
    schema,
    gcIntervalMs: false,
    ...rest,
  } as never);
}

describe('createPostgresStore({ pooler: "transaction" }) behind PgBouncer', () => {
  it("PGBOUNCER_URL is a PgBouncer in transaction pooling mode", async () => {
    // The admin console (database "pgbouncer") answers SHOW CONFIG; PostgreSQL has no such database.
    const url = new URL(bouncerUrl);
    url.pathname = "/pgbouncer";
    const console = new pg.Client({ connectionString: url.toString() });
    await console.connect();
    try {
      const config = await console.query<{ key: string; value: string }>("SHOW CONFIG");
      expect(config.rows.find((row) => row.key === "pool_mode")?.value).toBe("transaction");
    } finally {
      await console.end();
    }
  });

  it("without the option, the store's own pool is refused by PgBouncer with STORE_UNAVAILABLE and a hint", async () => {
    const store = createPostgresStore({ url: bouncerUrl, schema, gcIntervalMs: false });
    try {
      await expect(store.get(randomKey())).rejects.toMatchObject({
        name: "SessionError",
        code: "STORE_UNAVAILABLE",
        message: expect.stringContaining('pooler: "transaction"'),
      });
    } finally {
      await store.close();
    }
  });

  it("migrate() through PgBouncer from three instances at once creates the table once", async () => {
    const stores = [0, 1, 2].map(() => bouncerStore({ table: "migrated_together" }));
    try {
      const results = await Promise.all(stores.map((store) => store.migrate()));
      expect(results.map((r) => r.fromVersion).sort()).toEqual([0, 1, 1]);
      expect(results.every((r) => r.toVersion === 1)).toBe(true);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it("400 concurrent operations over 8 pooled connections meet no prepared-statement error", async () => {
    // The same load with named statements fails hundreds of times here
    // ("prepared statement … already exists / does not exist").
    const pool = new pg.Pool({ connectionString: bouncerUrl, max: 8 });
    // migrate: "auto" (the default): the first operations create the table.
    const store = bouncerStore({ table: "hammered", pool });
    try {
      const keys = Array.from({ length: 50 }, () => randomKey());
      const record = makeRecord({ payload: '{"hammered":true}' });
      await Promise.all(keys.map((key) => store.set(key, record, { ifVersion: 0 })));
      const results = await Promise.allSettled(
        Array.from({ length: 400 }, (_, i) => {
          const key = keys[i % keys.length] as string;
          return i % 2 === 0
            ? store.get(key).then((loaded) => loaded?.payload)
            : store.touch(key, record.expiresAt + i).then(String);
        }),
      );
      const failures = results.filter((r) => r.status === "rejected");
      expect(failures).toEqual([]);
      expect(
        results.filter((r) => r.status === "fulfilled" && r.value === '{"hammered":true}'),
      ).toHaveLength(200);
      expect(results.filter((r) => r.status === "fulfilled" && r.value === "true")).toHaveLength(
        200,
      );
      expect(await store.count()).toBe(50);
    } finally {
      await store.close();
      await pool.end();
    }
  });

  it("fromUrl() accepts pooler=transaction as a query parameter", async () => {
    const url = new URL(bouncerUrl);
    url.searchParams.set("schema", schema);
    url.searchParams.set("table", "via_url");
    url.searchParams.set("gcIntervalMs", "false");
    url.searchParams.set("pooler", "transaction");
    const store = await postgresProvider.fromUrl(url.toString());
    try {
      const key = randomKey();
      expect(await store.set(key, makeRecord(), { ifVersion: 0 })).toBe(true);
      const raw = await admin.query(`SELECT 1 FROM "${schema}"."via_url" WHERE key = $1`, [key]);
      expect(raw.rowCount).toBe(1);
    } finally {
      await store.close?.();
    }
  });

  it("gc() in batches through PgBouncer commits every batch and leaves no transaction open", async () => {
    // A name of its own, so other files' stores (also behind PgBouncer) never match.
    const applicationName = uniqueName("skgc");
    const store = bouncerStore({
      table: "gc_clean",
      gcBatchSize: 3,
      poolConfig: { application_name: applicationName },
    });
    try {
      await store.migrate();
      const past = Date.now() - 1_000;
      await admin.query(
        `INSERT INTO ${tableOf(store)} (key, payload, expires_at, created_at, version)
         SELECT md5(i::text) || md5((i + 1)::text), '{}', $1::bigint, $1::bigint - 10, 1
         FROM generate_series(1, 10) AS i`,
        [past],
      );
      expect(await store.gc()).toBe(10);
      expect(await rawCount(store)).toBe(0);
      // A transaction left open would pin its server connection to this store's
      // client, still under this store's application_name; PgBouncer may hand
      // a cleanly released one to another client, which renames it.
      const open = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity
         WHERE application_name = $1 AND state LIKE 'idle in transaction%'`,
        [applicationName],
      );
      expect(Number(open.rows[0]?.n)).toBe(0);
    } finally {
      await store.close();
    }
  });
});
