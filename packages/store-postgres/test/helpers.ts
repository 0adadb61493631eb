import { getPostgresUrl, MissingServiceError, probeTcp, uniqueName } from "@sessionkit/conformance";
import pg from "pg";
import { createPostgresStore, type PostgresPooler, type PostgresStore } from "../src/index.js";

const HOW_TO_START_PGBOUNCER =
  'run `eval "$(bash scripts/pgbouncer.sh up)"` from the repository root (it needs the pgbouncer ' +
  "binary: apt-get install -y pgbouncer), or point PGBOUNCER_URL at a PgBouncer in transaction " +
  "pooling mode in front of the database of DATABASE_URL";

/**
 * The URL of a PgBouncer in transaction pooling mode in front of the same
 * database as `getPostgresUrl()`: `PGBOUNCER_URL`, checked to answer. A missing
 * one is a failure that says how to start one, never a skip.
 */
export async function getPgBouncerUrl(): Promise<string> {
  const url = process.env.PGBOUNCER_URL;
  if (url === undefined || url === "") {
    throw new MissingServiceError(`PGBOUNCER_URL is not set: ${HOW_TO_START_PGBOUNCER}`);
  }
  const parsed = new URL(url);
  const port = parsed.port === "" ? 5432 : Number(parsed.port);
  try {
    await probeTcp(parsed.hostname, port);
  } catch (error) {
    throw new MissingServiceError(
      `PgBouncer is not reachable at ${parsed.hostname}:${port} (from PGBOUNCER_URL): ` +
        `${(error as Error).message}. To start one, ${HOW_TO_START_PGBOUNCER}`,
    );
  }
  return url;
}

/** How a test store reaches PostgreSQL: directly, or through PgBouncer with `pooler: "transaction"`. */
export type Route = "direct" | "pgbouncer";

/** The routes every parameterised test runs over. */
export const ROUTES: readonly Route[] = ["direct", "pgbouncer"];

/** URL and `pooler` option of a route. */
export async function routeOptions(route: Route): Promise<{ url: string; pooler: PostgresPooler }> {
  return route === "direct"
    ? { url: await getPostgresUrl(), pooler: "none" }
    : { url: await getPgBouncerUrl(), pooler: "transaction" };
}

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

/**
 * A migrated store in a fresh schema, its background gc off; `route` picks a
 * direct connection (default) or PgBouncer (migrated through it too).
 */
export async function createTestStore(
  admin: pg.Pool,
  extra: { operationTimeoutMs?: number; route?: Route; now?: () => number } = {},
): Promise<PostgresStore> {
  const { route = "direct", ...rest } = extra;
  const schema = await createSchema(admin);
  const store = createPostgresStore({
    ...(await routeOptions(route)),
    schema,
    gcIntervalMs: false,
    ...rest,
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
