import { storeConfigError } from "@sessionkit/core/store";
import type pg from "pg";
import { type ResolvedPostgresOptions, STORE } from "./options.js";
import { withClient } from "./pool.js";
import { CURRENT_SCHEMA_VERSION, MIGRATIONS, migrationSql } from "./schema.js";

/** What {@link PostgresStore.migrate} did. */
export interface MigrationResult {
  /** Schema version found before, `0` when the table was not managed yet. */
  readonly fromVersion: number;
  /** Schema version now. Equal to `fromVersion` when nothing was to do. */
  readonly toVersion: number;
}

/** Bound on each statement of a migration, in ms: DDL may wait for another instance's. */
const MIGRATE_TIMEOUT_MS = 30_000;

type Target = Pick<ResolvedPostgresOptions, "schema" | "table" | "unlogged" | "now">;

function newerSchema(target: Target, found: number) {
  return storeConfigError(
    STORE,
    `table ${target.schema}.${target.table} is at schema version ${found}, newer than this package knows (${CURRENT_SCHEMA_VERSION}): upgrade @sessionkit/store-postgres`,
  );
}

/**
 * Creates or upgrades the table, its indexes and the version table, in one
 * transaction under a transaction-scoped advisory lock per schema, so many
 * instances may run it at once: one migrates, the others find it current.
 */
export function runMigration(pool: pg.Pool, target: Target): Promise<MigrationResult> {
  const { schema, table } = target;
  const m = migrationSql(schema);
  return withClient(pool, async (client) => {
    // Statements as query configs, one by one: `sessionkit migrate --dry-run`
    // records them by wrapping the pool's clients.
    const exec = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
      client.query<R>({
        text,
        values,
        query_timeout: MIGRATE_TIMEOUT_MS + 500,
      } as pg.QueryConfig);
    await exec("BEGIN");
    await exec(`SET LOCAL statement_timeout = ${MIGRATE_TIMEOUT_MS}`);
    await exec(m.lock, [schema]);
    const exists = await exec(m.schemaExists, [schema]);
    if (exists.rowCount === 0) await exec(m.createSchema);
    await exec(m.createVersionTable);
    const found = await exec<{ version: number }>(m.readVersion, [table]);
    const fromVersion = found.rows[0]?.version ?? 0;
    if (fromVersion > CURRENT_SCHEMA_VERSION) throw newerSchema(target, fromVersion);
    for (const migration of MIGRATIONS) {
      if (migration.version <= fromVersion) continue;
      for (const statement of migration.statements(schema, table, target.unlogged)) {
        await exec(statement);
      }
    }
    if (fromVersion < CURRENT_SCHEMA_VERSION) {
      await exec(m.writeVersion, [table, CURRENT_SCHEMA_VERSION, target.now()]);
    }
    await exec("COMMIT");
    return { fromVersion, toVersion: CURRENT_SCHEMA_VERSION };
  });
}

/** The table's schema version as recorded, `0` when the version table or its row is missing. */
async function readSchemaVersion(
  pool: pg.Pool,
  target: Target,
  queryTimeoutMs: number,
): Promise<number> {
  try {
    const result = await pool.query<{ version: number }>({
      text: migrationSql(target.schema).readVersion,
      values: [target.table],
      query_timeout: queryTimeoutMs,
    } as pg.QueryConfig);
    return result.rows[0]?.version ?? 0;
  } catch (error) {
    // 42P01 undefined_table, 3F000 invalid_schema_name: nothing migrated yet.
    const code = (error as { code?: unknown }).code;
    if (code === "42P01" || code === "3F000") return 0;
    throw error;
  }
}

/**
 * What the `migrate` option does before the first operation: `"auto"` and
 * `"verify"` read the recorded version (one statement, no DDL rights needed);
 * a newer one is `INVALID_CONFIG`; an older one is migrated (`"auto"`) or
 * `INVALID_CONFIG` (`"verify"`).
 */
export async function prepareSchema(
  pool: pg.Pool,
  resolved: ResolvedPostgresOptions,
  queryTimeoutMs: number,
): Promise<void> {
  if (resolved.migrate === "off") return;
  const found = await readSchemaVersion(pool, resolved, queryTimeoutMs);
  if (found === CURRENT_SCHEMA_VERSION) return;
  if (found > CURRENT_SCHEMA_VERSION) throw newerSchema(resolved, found);
  if (resolved.migrate === "auto") {
    await runMigration(pool, resolved);
    return;
  }
  throw storeConfigError(
    STORE,
    `table ${resolved.schema}.${resolved.table} is at schema version ${found}, this package needs ${CURRENT_SCHEMA_VERSION} (migrate: "verify"): run store.migrate() or \`sessionkit migrate\` at deploy time, or set migrate: "auto"`,
  );
}
