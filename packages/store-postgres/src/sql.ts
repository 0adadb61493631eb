/**
 * The SQL of every store operation, as constants built from validated, quoted
 * identifiers; values always travel as `$n` parameters, never inside the text.
 */
import { GC_LOCK_CLASS, quoteIdentifier } from "./schema.js";

const COLUMNS = "key, payload, expires_at, created_at, version, user_id";

/**
 * The statements of every store operation on one table. Each runs as one
 * statement (one round trip); `$now` is always the application clock.
 */
export function operationSql(schema: string, table: string) {
  const t = `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
  return {
    // The read: the row as it is, expired or not. The backend deletes an
    // expired row it meets (purgeExpiredKey), so a clock that goes back can
    // never revive it; a plain SELECT costs the server less than a statement
    // that may delete, and expired rows are rare.
    read: `SELECT payload, expires_at, created_at, version, user_id FROM ${t} WHERE key = $1`,

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

    // GREATEST makes touch monotonic: it never shortens.
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

    // The moved record is already expired, so the move amounts to deleting
    // the old row; a live row under the new key still refuses it ("taken").
    // `live` and `taken` are read from the statement's snapshot.
    renameExpired: `WITH source AS (
  SELECT EXISTS (SELECT 1 FROM ${t}
    WHERE key = $1 AND expires_at > $2 AND ($3::bigint IS NULL OR version = $3::bigint)) AS live
), target AS (
  SELECT EXISTS (SELECT 1 FROM ${t} WHERE key = $4 AND expires_at > $2) AS taken
), gone AS (
  DELETE FROM ${t}
  WHERE key = $1 AND expires_at > $2 AND ($3::bigint IS NULL OR version = $3::bigint)
    AND NOT (SELECT taken FROM target)
  RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM gone) AS moved, (SELECT live FROM source) AS live,
  (SELECT taken FROM target) AS taken`,

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
