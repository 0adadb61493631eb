/**
 * The data statements of the SQLite store, in one place. The table name is
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

/** The data statements of one table, prepared on first use and then reused. */
export function statements({ table }: Identifiers) {
  const columns = "key, payload, expires_at, created_at, version, user_id";
  return {
    select: `SELECT ${columns} FROM ${table} WHERE key = ?`,
    selectState: `SELECT version, expires_at FROM ${table} WHERE key = ?`,
    // Every write but rename is one statement, and a single statement is
    // atomic in SQLite: the version check and the write cannot be separated,
    // by another connection or another process.
    // Compare-and-set: only a live row at the expected version is replaced.
    casUpdate: `UPDATE ${table} SET payload = ?, expires_at = ?, created_at = ?, version = ?, user_id = ?
      WHERE key = ? AND version = ? AND expires_at > ?`,
    // Create: an expired leftover counts as absent and is overwritten; a live row is left alone.
    createIfFree: `INSERT INTO ${table} (${columns}) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at,
        created_at = excluded.created_at, version = excluded.version, user_id = excluded.user_id
      WHERE ${table}.expires_at <= ?`,
    // A compare-and-set whose record is already expired is a deletion, under the same condition.
    deleteAtVersion: `DELETE FROM ${table} WHERE key = ? AND version = ? AND expires_at > ?`,
    // A create whose record is already expired writes nothing: it succeeds if the key is free.
    isFree: `SELECT NOT EXISTS (SELECT 1 FROM ${table} WHERE key = ? AND expires_at > ?) AS free`,
    delete: `DELETE FROM ${table} WHERE key = ?`,
    // Conditional, so a concurrent writer that just made the row live again keeps it.
    deleteIfExpired: `DELETE FROM ${table} WHERE key = ? AND expires_at <= ?`,
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

/** The name of one of {@link statements}. */
export type StatementName = keyof ReturnType<typeof statements>;
