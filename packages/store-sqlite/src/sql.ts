/**
 * Every SQL statement of the SQLite store, in one place. The table name is
 * configurable, so each statement is a template over already validated and
 * quoted identifiers; values are always bound parameters, never spliced in.
 */

/** Quoted identifiers of one store's table and indexes. */
export interface Identifiers {
  /** The session table, quoted. */
  readonly table: string;
  /** Index on `user_id`, quoted. */
  readonly userIndex: string;
  /** Index on `expires_at`, quoted. */
  readonly expiryIndex: string;
}

/**
 * Bookkeeping table of schema versions, one row per session table. A table
 * rather than `PRAGMA user_version`: that pragma is one number per file, and the
 * file may hold the application's own schema or several session tables.
 */
export const VERSION_TABLE = "sessionkit_schema";

/** Creates the version bookkeeping table (idempotent). */
export const CREATE_VERSION_TABLE = `CREATE TABLE IF NOT EXISTS "${VERSION_TABLE}" (
  table_name TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL
) STRICT`;

/** The schema version of one session table. */
export const SELECT_VERSION = `SELECT version FROM "${VERSION_TABLE}" WHERE table_name = ?`;

/** Records the schema version of one session table. */
export const UPSERT_VERSION = `INSERT INTO "${VERSION_TABLE}" (table_name, version) VALUES (?, ?)
  ON CONFLICT (table_name) DO UPDATE SET version = excluded.version`;

/**
 * Schema migrations, applied in order; entry `i` brings the schema to version
 * `i + 1`. Append, never edit: a released entry has run on users' files.
 */
export const MIGRATIONS: readonly ((ids: Identifiers) => string)[] = [
  // A rowid table (not WITHOUT ROWID): rows carry payloads of up to ~64 KiB,
  // which WITHOUT ROWID tables store badly. STRICT rejects a mistyped value
  // instead of silently keeping it under another type.
  ({ table, userIndex, expiryIndex }) => `
CREATE TABLE ${table} (
  key TEXT PRIMARY KEY NOT NULL,
  payload TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  version INTEGER NOT NULL,
  user_id TEXT
) STRICT;
CREATE INDEX ${userIndex} ON ${table} (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX ${expiryIndex} ON ${table} (expires_at);`,
];

/** The schema version this package writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Data statements of one table, prepared once per store. */
export function statements({ table }: Identifiers) {
  const columns = "key, payload, expires_at, created_at, version, user_id";
  return {
    select: `SELECT ${columns} FROM ${table} WHERE key = ?`,
    selectState: `SELECT version, expires_at FROM ${table} WHERE key = ?`,
    upsert: `INSERT INTO ${table} (${columns}) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at,
        created_at = excluded.created_at, version = excluded.version, user_id = excluded.user_id`,
    // The two common writes are one statement each: a single statement is
    // atomic in SQLite, so neither needs an explicit transaction.
    // Compare-and-set: only a live row at the expected version is replaced.
    casUpdate: `UPDATE ${table} SET payload = ?, expires_at = ?, created_at = ?, version = ?, user_id = ?
      WHERE key = ? AND version = ? AND expires_at > ?`,
    // Create: an expired leftover counts as absent and is overwritten; a live row is left alone.
    createIfFree: `INSERT INTO ${table} (${columns}) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at,
        created_at = excluded.created_at, version = excluded.version, user_id = excluded.user_id
      WHERE ${table}.expires_at <= ?`,
    delete: `DELETE FROM ${table} WHERE key = ?`,
    // Conditional, so a concurrent writer that just made the row live again keeps it.
    deleteIfExpired: `DELETE FROM ${table} WHERE key = ? AND expires_at <= ?`,
    // One statement is atomic on its own: no read in JavaScript, so no transaction needed.
    touch: `UPDATE ${table} SET expires_at = max(expires_at, ?)
      WHERE key = ? AND expires_at > ? AND (? IS NULL OR version = ?)`,
    listByUser: `SELECT ${columns} FROM ${table} WHERE user_id = ? AND expires_at > ?`,
    // RETURNING lets one atomic statement both delete and report which rows were still live.
    destroyByUser: `DELETE FROM ${table} WHERE user_id = ? AND key IS NOT ? RETURNING expires_at`,
    count: `SELECT count(*) AS n FROM ${table} WHERE expires_at > ?`,
    clear: `DELETE FROM ${table}`,
    // Keyset pagination on the primary key: stable under concurrent writes, no OFFSET scan.
    keys: `SELECT key FROM ${table} WHERE key > ? AND expires_at > ? ORDER BY key LIMIT ?`,
    gcBatch: `DELETE FROM ${table} WHERE rowid IN (
      SELECT rowid FROM ${table} WHERE expires_at <= ? LIMIT ?)`,
  } as const;
}
