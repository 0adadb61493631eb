import { getPostgresUrl, uniqueName } from "@sessionkit/conformance";
import pg from "pg";
import { createPostgresStore, type PostgresStore } from "../src/index.js";

/** A pool for the test's own raw SQL (schema set-up, inspection, lock holding). */
export async function openAdminPool(): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: await getPostgresUrl(), max: 4 });
  pool.on("error", () => {
    // A test that kills connections on purpose must not crash the run.
  });
  return pool;
}

/** Creates a fresh schema of our own; returns its name. */
export async function createSchema(admin: pg.Pool): Promise<string> {
  const schema = uniqueName("skpg");
  await admin.query(`CREATE SCHEMA "${schema}"`);
  return schema;
}

/** Drops a schema this test created (and only such a schema). */
export async function dropSchema(admin: pg.Pool, schema: string): Promise<void> {
  if (!schema.startsWith("skpg_")) throw new Error(`refusing to drop schema ${schema}`);
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** A migrated store in a fresh schema, its background gc off. */
export async function createTestStore(
  admin: pg.Pool,
  extra: { statementTimeoutMs?: number } = {},
): Promise<PostgresStore> {
  const schema = await createSchema(admin);
  const store = createPostgresStore({
    connectionString: await getPostgresUrl(),
    schema,
    gcIntervalMs: false,
    ...extra,
  });
  await store.migrate();
  return store;
}

/** Closes the store and drops its schema. */
export async function destroyTestStore(admin: pg.Pool, store: PostgresStore): Promise<void> {
  await store.close();
  await dropSchema(admin, store.schema);
}

/** The fully qualified, quoted table name of a store, for raw SQL in tests. */
export function tableOf(store: PostgresStore): string {
  return `"${store.schema}"."${store.table}"`;
}
