/**
 * Every SQL text of the store, as constants built from validated, quoted
 * identifiers. Nothing here reads a file at run time; values always travel as
 * `$n` parameters, never inside the text.
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

const COLUMNS = "key, payload, expires_at, created_at, version, user_id";

/**
 * The statements of every store operation on one table. Each runs as one
 * statement (one round trip); `$now` is always the application clock.
 */
export function operationSql(schema: string, table: string) {
  const t = `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
  return {
    // Deleting an expired row on read means a clock that goes back can never
    // revive it (checklist A20). The DELETE only matches expired rows, so it
    // never waits on a live row's lock; the SELECT sees the pre-delete
    // snapshot but filters expired rows itself.
    get: `WITH expired AS (DELETE FROM ${t} WHERE key = $1 AND expires_at <= $2 RETURNING 1)
SELECT payload, expires_at, created_at, version, user_id FROM ${t} WHERE key = $1 AND expires_at > $2`,

    // An expired row counts as absent: the conflict arm overwrites it, and a
    // live row makes the statement affect nothing (rowCount 0 = false).
    create: `INSERT INTO ${t} AS s (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (key) DO UPDATE SET payload = EXCLUDED.payload, expires_at = EXCLUDED.expires_at,
  created_at = EXCLUDED.created_at, version = EXCLUDED.version, user_id = EXCLUDED.user_id
WHERE s.expires_at <= $7`,

    // A create whose record is already expired writes nothing: it removes an
    // expired leftover and reports whether the key was free.
    createExpired: `WITH expired AS (DELETE FROM ${t} WHERE key = $1 AND expires_at <= $2 RETURNING 1)
SELECT NOT EXISTS (SELECT 1 FROM ${t} WHERE key = $1 AND expires_at > $2) AS free`,

    // Compare-and-set: only a live row at the expected version is replaced,
    // so a late write can neither overwrite a newer version nor resurrect.
    replace: `UPDATE ${t} SET payload = $2, expires_at = $3, created_at = $4, version = $5, user_id = $6
WHERE key = $1 AND version = $7 AND expires_at > $8`,

    replaceExpired: `DELETE FROM ${t} WHERE key = $1 AND version = $2 AND expires_at > $3`,

    destroy: `DELETE FROM ${t} WHERE key = $1`,

    // GREATEST makes touch monotonic: it never shortens (A20).
    touch: `UPDATE ${t} SET expires_at = GREATEST(expires_at, $2)
WHERE key = $1 AND expires_at > $3 AND ($4::bigint IS NULL OR version = $4::bigint)`,

    // One statement, so atomic: the DELETE's row lock makes concurrent
    // renames of one key serialise, and only the one that deleted the row
    // inserts. A live row under the new key raises 23505 and rolls the
    // DELETE back with it.
    rename: `WITH old AS (
  DELETE FROM ${t} WHERE key = $1 AND expires_at > $8 AND ($9::bigint IS NULL OR version = $9::bigint)
  RETURNING 1
)
INSERT INTO ${t} (${COLUMNS})
SELECT $2::text, $3::text, $4::bigint, $5::bigint, $6::bigint, $7::text FROM old`,

    renameExpired: `DELETE FROM ${t}
WHERE key = $1 AND expires_at > $2 AND ($3::bigint IS NULL OR version = $3::bigint)`,

    purgeExpiredKey: `DELETE FROM ${t} WHERE key = $1 AND expires_at <= $2`,

    listByUser: `SELECT ${COLUMNS} FROM ${t} WHERE user_id = $1 AND expires_at > $2`,

    // Expired rows of the user go too; only live ones are counted.
    destroyByUser: `WITH gone AS (
  DELETE FROM ${t} WHERE user_id = $1 AND key IS DISTINCT FROM $2::text RETURNING expires_at
)
SELECT count(*) FILTER (WHERE expires_at > $3) AS destroyed FROM gone`,

    count: `SELECT count(*) AS live FROM ${t} WHERE expires_at > $1`,

    // DELETE, not TRUNCATE: TRUNCATE takes an ACCESS EXCLUSIVE lock that
    // would stall every concurrent read.
    clear: `DELETE FROM ${t}`,

    // Keyset pagination on the primary key: stable under concurrent writes.
    keys: `SELECT key FROM ${t} WHERE key > $1 AND expires_at > $2 ORDER BY key LIMIT $3`,

    gcLock: `SELECT pg_try_advisory_lock(${GC_LOCK_CLASS}, hashtext($1)) AS locked`,
    gcUnlock: `SELECT pg_advisory_unlock(${GC_LOCK_CLASS}, hashtext($1))`,
    // Transaction pooling: the batch's own transaction takes the lock (freed
    // at COMMIT, so it never outlives the server connection's loan) and sets
    // the statement timeout the pool could not set at connect.
    gcBatchLock: `SELECT set_config('statement_timeout', $1::text, true) AS timeout,
  pg_try_advisory_xact_lock(${GC_LOCK_CLASS}, hashtext($2)) AS locked`,
    // SKIP LOCKED: rows another transaction holds are left for the next run,
    // so gc never waits on (or makes wait) a live session's writer.
    gcBatch: `DELETE FROM ${t} WHERE key IN (
  SELECT key FROM ${t} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED
) AND expires_at <= $1`,
  } as const;
}

/** The SQL texts of {@link operationSql}, by operation. */
export type OperationSql = ReturnType<typeof operationSql>;
