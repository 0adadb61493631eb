import { getPostgresUrl, randomKey, uniqueName } from "@sessionkit/conformance";
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
    const stores = [1, 2, 3].map(() => createPostgresStore({ url, schema, gcIntervalMs: false }));
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
      url,
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
      url,
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
    const store = createPostgresStore({ url, schema, gcIntervalMs: false });
    try {
      await store.migrate();
      expect(await store.count()).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('with the default migrate: "auto", operations that start together migrate the table once', async () => {
    const schema = await freshSchema();
    const store = createPostgresStore({ url, schema, gcIntervalMs: false });
    try {
      const keys = Array.from({ length: 5 }, randomKey);
      expect(await Promise.all(keys.map((key) => store.get(key)))).toEqual(keys.map(() => null));
      expect(await store.migrate()).toEqual({
        fromVersion: CURRENT_SCHEMA_VERSION,
        toVersion: CURRENT_SCHEMA_VERSION,
      });
      const versions = await admin.query(`SELECT 1 FROM "${schema}"."${VERSION_TABLE}"`);
      expect(versions.rowCount).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('migrate: "auto" on a current table runs no DDL, so a role without CREATE rights works', async () => {
    const schema = await freshSchema();
    const setup = createPostgresStore({ url, schema, gcIntervalMs: false });
    await setup.migrate();
    await setup.close();
    const role = uniqueName("skpg_role");
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
    try {
      await admin.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
      await admin.query(
        `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${schema}" TO "${role}"`,
      );
      const asRole = new URL(url);
      asRole.username = role;
      asRole.password = "";
      const store = createPostgresStore({ url: asRole.toString(), schema, gcIntervalMs: false });
      try {
        const key = randomKey();
        const now = Date.now();
        const record = { payload: "{}", createdAt: now, expiresAt: now + 60_000, version: 1 };
        expect(await store.set(key, record, { ifVersion: 0 })).toBe(true);
        expect((await store.get(key))?.payload).toBe("{}");
        // The same role cannot run the migration itself: the check above really ran no DDL.
        await expect(store.migrate()).rejects.toMatchObject({ code: "STORE_ERROR" });
      } finally {
        await store.close();
      }
    } finally {
      await admin.query(`DROP OWNED BY "${role}"`);
      await admin.query(`DROP ROLE "${role}"`);
    }
  });

  it('migrate: "verify" refuses a table that is not migrated with INVALID_CONFIG, creates nothing, and works once it is', async () => {
    const schema = await freshSchema();
    const store = createPostgresStore({ url, schema, migrate: "verify", gcIntervalMs: false });
    try {
      await expect(store.get(randomKey())).rejects.toMatchObject({
        name: "SessionError",
        code: "INVALID_CONFIG",
        message: expect.stringContaining("migrate()"),
      });
      const tables = await admin.query(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = $1",
        [schema],
      );
      expect(tables.rowCount).toBe(0);
      expect((await store.migrate()).fromVersion).toBe(0);
      expect(await store.get(randomKey())).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('with migrate: "off", an operation on a missing table fails with STORE_ERROR naming the fix', async () => {
    const schema = await freshSchema();
    const store = createPostgresStore({ url, schema, migrate: "off", gcIntervalMs: false });
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

  it("a table at a newer schema version than the package knows is INVALID_CONFIG, from migrate() and from operations", async () => {
    const schema = await freshSchema();
    const store = createPostgresStore({ url, schema, gcIntervalMs: false });
    const verifying = createPostgresStore({ url, schema, migrate: "verify", gcIntervalMs: false });
    try {
      await store.migrate();
      await admin.query(`UPDATE "${schema}"."${VERSION_TABLE}" SET version = 99`);
      await expect(store.migrate()).rejects.toMatchObject({
        code: "INVALID_CONFIG",
        message: expect.stringContaining("newer"),
      });
      // store has already checked its schema; a fresh store checks at its first operation.
      const fresh = createPostgresStore({ url, schema, gcIntervalMs: false });
      try {
        await expect(fresh.get(randomKey())).rejects.toMatchObject({ code: "INVALID_CONFIG" });
      } finally {
        await fresh.close();
      }
      await expect(verifying.get(randomKey())).rejects.toMatchObject({ code: "INVALID_CONFIG" });
    } finally {
      await store.close();
      await verifying.close();
    }
  });

  it("migrate() after close() rejects with STORE_UNAVAILABLE", async () => {
    const schema = await freshSchema();
    const store = createPostgresStore({ url, schema, gcIntervalMs: false });
    await store.close();
    await expect(store.migrate()).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
      operation: "migrate",
    });
  });
});
