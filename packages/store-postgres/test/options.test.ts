import { getPostgresUrl, makeRecord, randomKey } from "@sessionkit/conformance";
import { createStoreRegistry } from "@sessionkit/core";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresStore, postgresProvider } from "../src/index.js";
import { createSchema, dropSchema, openAdminPool } from "./helpers.js";

let admin: pg.Pool;
let url: string;
let schema: string;

beforeAll(async () => {
  admin = await openAdminPool();
  url = await getPostgresUrl();
  schema = await createSchema(admin);
});
afterAll(async () => {
  await dropSchema(admin, schema);
  await admin.end();
});

describe("createPostgresStore(options)", () => {
  it("rejects hostile or malformed schema and table names with INVALID_CONFIG (A32)", () => {
    const hostile = [
      'sessions"; DROP TABLE users; --',
      "Sessions",
      "1sessions",
      "public.sessions",
      "sessions ",
      "",
      "séances",
      "a".repeat(49),
      'x"y',
    ];
    for (const name of hostile) {
      expect(() => createPostgresStore({ url, table: name, gcIntervalMs: false })).toThrow(
        expect.objectContaining({ name: "SessionError", code: "INVALID_CONFIG" }),
      );
    }
    for (const name of [...hostile.filter((n) => n.length < 49), "a".repeat(64)]) {
      expect(() => createPostgresStore({ url, schema: name, gcIntervalMs: false })).toThrow(
        expect.objectContaining({ code: "INVALID_CONFIG" }),
      );
    }
  });

  it("accepts identifiers at the length limits", async () => {
    const store = createPostgresStore({
      url,
      schema,
      table: `t${"a".repeat(47)}`,
      gcIntervalMs: false,
    });
    await store.migrate();
    expect(await store.count()).toBe(0);
    await store.close();
  });

  it("rejects neither or both of url and pool, unknown options and bad values with INVALID_CONFIG, before opening any connection", async () => {
    const pool = new pg.Pool({ connectionString: url });
    try {
      const bad: unknown[] = [
        undefined,
        null,
        "postgres://localhost/db",
        {},
        { pool, url },
        { url: "" },
        { url: 42 },
        { url: "mysql://localhost/db" },
        { pool: {} },
        { pool, poolConfig: { max: 2 } },
        { url, poolConfig: "max=2" },
        { url, operationTimeoutMs: 0 },
        { url, operationTimeoutMs: 1.5 },
        { url, gcIntervalMs: 1.5 },
        { url, gcIntervalMs: 0 },
        { url, gcIntervalMs: true },
        { url, gcBatchSize: 0 },
        { url, pooler: "session" },
        { url, pooler: "TRANSACTION" },
        { url, migrate: true },
        { url, migrate: "yes" },
        { url, unlogged: "true" },
        { url, now: Date.now() },
        { url, onError: "warn" },
        // Renamed options are not aliases: each is refused by name.
        { connectionString: url },
        { url, statementTimeoutMs: 500 },
        { url, connectTimeoutMs: 500 },
        { url, createTableIfMissing: true },
      ];
      for (const options of bad) {
        expect(() => createPostgresStore(options as never), JSON.stringify(options)).toThrow(
          expect.objectContaining({ name: "SessionError", code: "INVALID_CONFIG" }),
        );
      }
      expect(pool.totalCount).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it("an unknown option is named in the error", () => {
    expect(() => createPostgresStore({ url, statementTimeoutMs: 500 } as never)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('"statementTimeoutMs"') }),
    );
  });

  it("now is called at operation time, never captured at construction", async () => {
    let calls = 0;
    const store = createPostgresStore({
      url,
      schema,
      gcIntervalMs: false,
      now: () => {
        calls++;
        return Date.now();
      },
    });
    try {
      expect(calls).toBe(0);
      await store.migrate();
      // One clock reading per operation that compares expiries: the write,
      // then the read of what it wrote.
      const key = randomKey();
      const before = calls;
      expect(await store.set(key, makeRecord(), { ifVersion: 0 })).toBe(true);
      expect(calls).toBe(before + 1);
      expect(await store.get(key)).not.toBeNull();
      expect(calls).toBe(before + 2);
    } finally {
      await store.close();
    }
  });

  it("close() leaves a pool passed in open; two stores can share it", async () => {
    const pool = new pg.Pool({ connectionString: url, statement_timeout: 2_000 });
    const a = createPostgresStore({ pool, schema, table: "shared_a", gcIntervalMs: false });
    const b = createPostgresStore({ pool, schema, table: "shared_b", gcIntervalMs: false });
    try {
      await a.migrate();
      await b.migrate();
      const key = randomKey();
      // Same key, same operation, two tables: the prepared statements must not collide.
      await a.set(key, makeRecord({ payload: '"a"' }), { ifVersion: 0 });
      await b.set(key, makeRecord({ payload: '"b"' }), { ifVersion: 0 });
      expect((await a.get(key))?.payload).toBe('"a"');
      expect((await b.get(key))?.payload).toBe('"b"');
      await a.close();
      await expect(a.get(key)).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      expect((await b.get(key))?.payload).toBe('"b"');
      expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await b.close();
      await pool.end();
    }
  });

  it("keys() rejects a cursor it never issued with a TypeError before any SQL (A32)", async () => {
    const store = createPostgresStore({ url, schema, gcIntervalMs: false });
    try {
      await expect(store.keys({ cursor: "' OR 1=1 --" })).rejects.toBeInstanceOf(TypeError);
      await expect(store.keys({ cursor: "A".repeat(64) })).rejects.toBeInstanceOf(TypeError);
    } finally {
      await store.close();
    }
  });
});

describe("postgresProvider", () => {
  it("opens postgres:// and postgresql:// URLs through a registry, with options as query parameters", async () => {
    const registry = createStoreRegistry().register(postgresProvider);
    for (const scheme of ["postgres", "postgresql"]) {
      const u = new URL(url);
      const target = new URL(`${scheme}://${u.host}${u.pathname}`);
      target.username = u.username;
      target.password = u.password;
      target.search = u.search;
      target.searchParams.set("schema", schema);
      target.searchParams.set("table", `via_${scheme}`);
      target.searchParams.set("migrate", "auto");
      target.searchParams.set("gcIntervalMs", "false");
      target.searchParams.set("application_name", "sessionkit-url-test");
      const store = await registry.open(target.toString());
      try {
        expect(store.name).toBe("postgres");
        const key = randomKey();
        expect(await store.set(key, makeRecord(), { ifVersion: 0 })).toBe(true);
        const raw = await admin.query(`SELECT 1 FROM "${schema}"."via_${scheme}" WHERE key = $1`, [
          key,
        ]);
        expect(raw.rowCount).toBe(1);
        // pg's own parameter reached pg: the store's connection carries its name.
        const named = await admin.query(
          "SELECT 1 FROM pg_stat_activity WHERE application_name = 'sessionkit-url-test'",
        );
        expect(named.rowCount).toBeGreaterThan(0);
      } finally {
        await store.close?.();
      }
    }
  });

  it("createPostgresStore({ url }) reads the same query parameters; one also given as an option is INVALID_CONFIG", async () => {
    const withTable = new URL(url);
    withTable.searchParams.set("schema", schema);
    withTable.searchParams.set("table", "via_option_url");
    const store = createPostgresStore({ url: withTable.toString(), gcIntervalMs: false });
    try {
      expect({ schema: store.schema, table: store.table }).toEqual({
        schema,
        table: "via_option_url",
      });
      expect(await store.count()).toBe(0);
    } finally {
      await store.close();
    }
    expect(() =>
      createPostgresStore({ url: withTable.toString(), table: "other", gcIntervalMs: false }),
    ).toThrow(
      expect.objectContaining({
        code: "INVALID_CONFIG",
        message: expect.stringContaining("table is set both in the URL and as an option"),
      }),
    );
  });

  it("fromUrl() never puts the URL in an error (A39)", async () => {
    const secretUrl = "postgres://app:s3cret-pw@db.internal:5432/app?table=Bad;Name";
    let error: unknown;
    try {
      await postgresProvider.fromUrl(secretUrl);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "INVALID_CONFIG" });
    expect(String((error as Error).message)).not.toContain("s3cret-pw");
    expect(String((error as Error).message)).not.toContain("db.internal");
    expect(() => postgresProvider.fromUrl("postgres://a:s3cret-pw@[bad")).toThrow(
      expect.objectContaining({
        code: "INVALID_CONFIG",
        message: expect.not.stringContaining("s3cret"),
      }),
    );
  });
});
