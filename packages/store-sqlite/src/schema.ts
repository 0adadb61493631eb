import { type SessionError, storeConfigError } from "@sessionkit/core/store";
import type { SqliteDatabase } from "./options.js";
import type { Identifiers } from "./sql.js";

/**
 * Bookkeeping table of schema versions, one row per session table: the same
 * name and columns as the PostgreSQL store's. A table rather than
 * `PRAGMA user_version`: that pragma is one number per file, and the file may
 * hold the application's own schema or several session tables.
 */
export const VERSION_TABLE = "sessionkit_schema_version";

const CREATE_VERSION_TABLE = `CREATE TABLE IF NOT EXISTS "${VERSION_TABLE}" (
  table_name TEXT PRIMARY KEY NOT NULL,
  version INTEGER NOT NULL,
  migrated_at INTEGER NOT NULL
) STRICT`;

const SELECT_VERSION = `SELECT version FROM "${VERSION_TABLE}" WHERE table_name = ?`;

const UPSERT_VERSION = `INSERT INTO "${VERSION_TABLE}" (table_name, version, migrated_at) VALUES (?, ?, ?)
  ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, migrated_at = excluded.migrated_at`;

/**
 * Schema migrations, applied in order; entry `i` brings the schema to version
 * `i + 1`. Append, never edit: a released entry has run on users' files.
 */
const MIGRATIONS: readonly ((ids: Identifiers) => string)[] = [
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

/** The schema version this package creates and expects. */
export const CURRENT_SCHEMA_VERSION = MIGRATIONS.length;

/** What `SqliteStore.migrate()` did. */
export interface MigrationResult {
  /** Schema version found before, `0` when the table was not managed yet. */
  readonly fromVersion: number;
  /** Schema version now. Equal to `fromVersion` when there was nothing to do. */
  readonly toVersion: number;
}

/**
 * The schema version recorded for `table` in an open database, `0` when it
 * was never migrated. Reads only, so a read-only connection will do.
 *
 * @example
 * ```ts
 * import Database from "better-sqlite3";
 * import { CURRENT_SCHEMA_VERSION, sqliteSchemaVersion } from "@sessionkit/store-sqlite";
 *
 * const db = new Database("./sessions.db", { readonly: true });
 * const pending = sqliteSchemaVersion(db, "sessionkit_sessions") < CURRENT_SCHEMA_VERSION;
 * ```
 */
export function sqliteSchemaVersion(database: SqliteDatabase, table: string): number {
  const bookkeeping = database
    .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?")
    .get(VERSION_TABLE);
  if (bookkeeping === undefined) return 0;
  const row = database.prepare(SELECT_VERSION).get(table) as { version: number } | undefined;
  return row?.version ?? 0;
}

function newerSchema(table: string, version: number): SessionError {
  return storeConfigError(
    "sqlite",
    `table "${table}" is at schema version ${version}, newer than this package's ${CURRENT_SCHEMA_VERSION}; upgrade @sessionkit/store-sqlite`,
  );
}

/**
 * Creates or upgrades the session table, its indexes and the version table in
 * one `BEGIN IMMEDIATE` transaction: two processes opening the same new file
 * at once serialise on the write lock, and the second finds the work done.
 */
export function migrateSchema(
  database: SqliteDatabase,
  table: string,
  ids: Identifiers,
  now: () => number,
): MigrationResult {
  const found = sqliteSchemaVersion(database, table);
  // Already current (every start after the first): no write lock needed.
  if (found === CURRENT_SCHEMA_VERSION) return { fromVersion: found, toVersion: found };
  return database
    .transaction((): MigrationResult => {
      database.exec(CREATE_VERSION_TABLE);
      const row = database.prepare(SELECT_VERSION).get(table) as { version: number } | undefined;
      const fromVersion = row?.version ?? 0;
      if (fromVersion > CURRENT_SCHEMA_VERSION) throw newerSchema(table, fromVersion);
      for (const migration of MIGRATIONS.slice(fromVersion)) database.exec(migration(ids));
      if (fromVersion !== CURRENT_SCHEMA_VERSION) {
        database.prepare(UPSERT_VERSION).run(table, CURRENT_SCHEMA_VERSION, now());
      }
      return { fromVersion, toVersion: CURRENT_SCHEMA_VERSION };
    })
    .immediate();
}

/** Checks, without writing, that `table` is at the schema version this package expects. */
export function verifySchema(database: SqliteDatabase, table: string): void {
  const found = sqliteSchemaVersion(database, table);
  if (found > CURRENT_SCHEMA_VERSION) throw newerSchema(table, found);
  if (found < CURRENT_SCHEMA_VERSION) {
    throw storeConfigError(
      "sqlite",
      `table "${table}" is at schema version ${found}, expected ${CURRENT_SCHEMA_VERSION}; call store.migrate() (or run sessionkit migrate) first, or open the store with migrate: "auto"`,
    );
  }
}
