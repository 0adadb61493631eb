/**
 * The table's schema: identifiers, versions, advisory lock classes and the
 * migrations, as constants built from validated, quoted identifiers. Nothing
 * here reads a file at run time.
 */

/** Allowed schema names: lowercase, PostgreSQL's 63-byte limit. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/**
 * Allowed table names: 48 characters at most, so that the longest index name
 * derived from it (`<table>_expires_at_idx`) stays within PostgreSQL's 63-byte
 * limit instead of being silently truncated (two tables could then collide).
 */
export const TABLE_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/** Name of the per-schema table that records each session table's schema version. */
export const VERSION_TABLE = "sessionkit_schema_version";

/** The schema version this package creates and expects. */
export const CURRENT_SCHEMA_VERSION = 1;

/**
 * Advisory lock class ids (first argument of the two-int form), so the
 * store's locks never share a key space with an application's own.
 */
export const MIGRATE_LOCK_CLASS = 0x53_4b_01; // "SK" + 1
/** Advisory lock class of the gc prune lock (one pruning instance at a time). */
export const GC_LOCK_CLASS = 0x53_4b_02;

/** Double-quotes an identifier already checked against {@link SCHEMA_NAME} or {@link TABLE_NAME}. */
export function quoteIdentifier(name: string): string {
  // Validation already excludes quotes; doubling them keeps this safe on its own.
  return `"${name.replaceAll('"', '""')}"`;
}

/** One schema migration: the statements that take a table from `version - 1` to `version`. */
export interface Migration {
  readonly version: number;
  statements(schema: string, table: string, unlogged: boolean): readonly string[];
}

/**
 * The migrations, in order. Never edit a released one: append a new version
 * whose statements change the table in place (`ALTER TABLE …`).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements(schema, table, unlogged) {
      const qualified = `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
      return [
        `CREATE ${unlogged ? "UNLOGGED " : ""}TABLE IF NOT EXISTS ${qualified} (
  key text PRIMARY KEY,
  payload text NOT NULL,
  expires_at bigint NOT NULL,
  created_at bigint NOT NULL,
  version bigint NOT NULL,
  user_id text
)`,
        `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${table}_expires_at_idx`)} ON ${qualified} (expires_at)`,
        `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${table}_user_id_idx`)} ON ${qualified} (user_id) WHERE user_id IS NOT NULL`,
      ];
    },
  },
];

/** The statements of the migration runner itself (run inside one transaction). */
export function migrationSql(schema: string): {
  readonly lock: string;
  readonly schemaExists: string;
  readonly createSchema: string;
  readonly createVersionTable: string;
  readonly readVersion: string;
  readonly writeVersion: string;
} {
  const versionTable = `${quoteIdentifier(schema)}.${quoteIdentifier(VERSION_TABLE)}`;
  return {
    // Per schema, not per table: two session tables in one schema share the
    // version table, whose creation must be serialised too.
    lock: `SELECT pg_advisory_xact_lock(${MIGRATE_LOCK_CLASS}, hashtext($1))`,
    schemaExists: "SELECT 1 FROM pg_namespace WHERE nspname = $1",
    createSchema: `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`,
    createVersionTable: `CREATE TABLE IF NOT EXISTS ${versionTable} (
  table_name text PRIMARY KEY,
  version integer NOT NULL,
  migrated_at bigint NOT NULL
)`,
    readVersion: `SELECT version FROM ${versionTable} WHERE table_name = $1`,
    writeVersion: `INSERT INTO ${versionTable} (table_name, version, migrated_at) VALUES ($1, $2, $3)
ON CONFLICT (table_name) DO UPDATE SET version = EXCLUDED.version, migrated_at = EXCLUDED.migrated_at`,
  };
}
