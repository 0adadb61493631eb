import { getPostgresUrl, randomKey } from "@sessionkit/conformance";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CURRENT_SCHEMA_VERSION, createPostgresStore, VERSION_TABLE } from "../src/index.js";
import { createSchema, dropSchema, openAdminPool } from "./helpers.js";

let admin: pg.Pool;
let url: string;
const schemas: string[] = [];

beforeAll(async () => {
  admin = await openAdminPool();
  url = await getPostgresUrl();
});
afterAll(async () => {
  for (const schema of schemas) await dropSchema(admin, schema);
  await admin.end();
});

async function freshSchema(): Promise<string> {
  const schema = await createSchema(admin);
  schemas.push(schema);
  return schema;
}

describe("migrate()", () => {
  it("migrate() run by two instances at once succeeds in both, and a third run is a no-op", async () => {
    const schema = await freshSchema();
    const stores = [1, 2, 3].map(() =>
      createPostgresStore({ connectionString: url, schema, gcIntervalMs: false }),
    );
    const [a, b, c] = stores as [(typeof stores)[0], (typeof stores)[0], (typeof stores)[0]];
    try {
      const results = await Promise.all([a.migrate(), b.migrate()]);
      // The advisory lock serialises them: exactly one created the table.
      expect(results.map((r) => r.fromVersion).sort()).toEqual([0, CURRENT_SCHEMA_VERSION]);
      for (const r of results) expect(r.toVersion).toBe(CURRENT_SCHEMA_VERSION);
      expect(await c.migrate()).toEqual({
        fromVersion: CURRENT_SCHEMA_VERSION,
        toVersion: CURRENT_SCHEMA_VERSION,
      });
      const versions = await admin.query<{ table_name: string; version: number }>(
        `SELECT table_name, version FROM "${schema}"."${VERSION_TABLE}"`,
      );
      expect(versions.rows).toEqual([
        { table_name: "sessionkit_sessions", version: CURRENT_SCHEMA_VERSION },
      ]);
      const key = randomKey();
      const now = Date.now();
      const record = { payload: "{}", createdAt: now, expiresAt: now + 60_000, version: 1 };
      expect(await a.set(key, record, { ifVersion: 0 })).toBe(true);
      expect((await b.get(key))?.payload).toBe("{}");
    } finally {
      for (const store of stores) await store.close();
    }
  });

  it("migrate() creates the key, expiry and user indexes and the columns of the documented DDL", async () => {
    const schema = await freshSchema();
    const store = createPostgresStore({
      connectionString: url,
      schema,
      table: "sess",
      gcIntervalMs: false,
    });
    try {
      await store.migrate();
      const columns = await admin.query<{ column_name: string; data_type: string }>(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'sess' ORDER BY ordinal_position",
        [schema],
      );
      expect(columns.rows).toEqual([
        { column_name: "key", data_type: "text" },
        { column_name: "payload", data_type: "text" },
        { column_name: "expires_at", data_type: "bigint" },
        { column_name: "created_at", data_type: "bigint" },
        { column_name: "version", data_type: "bigint" },
        { column_name: "user_id", data_type: "text" },
      ]);
      const indexes = await admin.query<{ indexname: string }>(
        "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'sess' ORDER BY indexname",
        [schema],
      );
      expect(indexes.rows.map((r) => r.indexname)).toEqual([
        "sess_expires_at_idx",
        "sess_pkey",
        "sess_user_id_idx",
      ]);
    } finally {
      await store.close();
    }
  });

  it("migrate() with unlogged: true creates an UNLOGGED table", async () => {
    const schema = await freshSchema();
    const store = createPostgresStore({
      connectionString: url,
      schema,
      unlogged: true,
      gcIntervalMs: false,
    });
    try {
      await store.migrate();
      const result = await admin.query<{ relpersistence: string }>(
        "SELECT c.relpersistence FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'sessionkit_sessions'",
        [schema],
      );
      expect(result.rows[0]?.relpersistence).toBe("u");
    } finally {
      await store.close();
    }
  });

  it("migrate() creates a missing schema", async () => {
    const schema = await freshSchema();
    await admin.query(`DROP SCHEMA "${schema}"`);
    const store = createPostgresStore({ connectionString: url, schema, gcIntervalMs: false });
    try {
      await store.migrate();
      expect(await store.count()).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("createTableIfMissing: true migrates before the first operation, once, even when operations start together", async () => {
    const schema = await freshSchema();
    const store = createPostgresStore({
      connectionString: url,
      schema,
      createTableIfMissing: true,
      gcIntervalMs: false,
    });
    try {
      const keys = Array.from({ length: 5 }, randomKey);
      expect(await Promise.all(keys.map((key) => store.get(key)))).toEqual(keys.map(() => null));
      expect((await store.migrate()).fromVersion).toBe(CURRENT_SCHEMA_VERSION);
    } finally {
      await store.close();
    }
  });

  it("without migrate(), an operation fails with STORE_ERROR naming the fix", async () => {
    const schema = await freshSchema();
    const store = createPostgresStore({ connectionString: url, schema, gcIntervalMs: false });
    try {
      await expect(store.get(randomKey())).rejects.toMatchObject({
        name: "SessionError",
        code: "STORE_ERROR",
        store: "postgres",
        operation: "get",
        message: expect.stringContaining("migrate()"),
      });
    } finally {
      await store.close();
    }
  });

  it("migrate() refuses a table at a newer schema version than the package knows", async () => {
    const schema = await freshSchema();
    const store = createPostgresStore({ connectionString: url, schema, gcIntervalMs: false });
    try {
      await store.migrate();
      await admin.query(`UPDATE "${schema}"."${VERSION_TABLE}" SET version = 99`);
      await expect(store.migrate()).rejects.toMatchObject({
        code: "STORE_ERROR",
        message: expect.stringContaining("newer"),
      });
    } finally {
      await store.close();
    }
  });
});
