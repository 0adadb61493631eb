import { createHash } from "node:crypto";
import {
  isStoreKey,
  type RenameResult,
  type SessionRecord,
  type StoreBackend,
  storeArgumentError,
} from "@sessionkit/core/store";
import type pg from "pg";
import { type PruneContext, pruneWithBatchLocks, pruneWithSessionLock } from "./gc.js";
import { type MigrationResult, prepareSchema, runMigration } from "./migrate.js";
import { type ResolvedPostgresOptions, STORE } from "./options.js";
import type { StorePool } from "./pool.js";
import { type OperationSql, operationSql } from "./sql.js";

/** Parses an int8 column (pg returns it as a string) into a safe integer. */
function toSafeInteger(value: unknown, column: string): number {
  const n = typeof value === "number" ? value : Number(value);
  // A plain Error: core reports it as STORE_ERROR for the operation at hand.
  if (!Number.isSafeInteger(n)) throw new Error(`column ${column} holds a non-integer`);
  return n;
}

interface Row {
  payload: string;
  expires_at: string | number;
  created_at: string | number;
  version: string | number;
  user_id: string | null;
}

function toRecord(row: Row): SessionRecord {
  const record: SessionRecord = {
    payload: row.payload,
    expiresAt: toSafeInteger(row.expires_at, "expires_at"),
    createdAt: toSafeInteger(row.created_at, "created_at"),
    version: toSafeInteger(row.version, "version"),
  };
  return row.user_id === null ? record : { ...record, userId: row.user_id };
}

const isUniqueViolation = (error: unknown): boolean =>
  (error as { code?: unknown } | null)?.code === "23505";

/** The backend and what the store adds to it. */
export interface PostgresBackend {
  readonly backend: StoreBackend;
  /** Runs the migration now (the store's `migrate()`, before core's wrapping). */
  migrate(): Promise<MigrationResult>;
}

/**
 * The storage logic on one table: every operation is one parameterised
 * statement (gc and migrate excepted; a get that meets an expired row deletes
 * it with a second), its expiry compared against the application clock `now`,
 * never the database's.
 */
export function createPostgresBackend(
  resolved: ResolvedPostgresOptions,
  storePool: StorePool,
): PostgresBackend {
  const { pool, queryTimeoutMs } = storePool;
  const { schema, table, now, operationTimeoutMs } = resolved;
  // Under transaction pooling, consecutive statements may reach different
  // server connections: nothing may rely on per-connection state.
  const transactionPooling = resolved.pooler === "transaction";
  const sql = operationSql(schema, table);
  const lockKey = `${schema}.${table}`;
  // Prepared statement names are per connection and a user's pool may serve
  // several stores: the hash keeps one table's statements apart from another's.
  const statementPrefix = `sessionkit_${createHash("sha256").update(lockKey).digest("hex").slice(0, 12)}`;
  let ready = resolved.migrate === "off";
  let preparing: Promise<void> | undefined;

  const prepare = (): Promise<void> => {
    // Concurrent first operations share one check; a failed one is forgotten
    // so the next operation tries again.
    preparing ??= prepareSchema(pool, resolved, queryTimeoutMs).then(
      () => {
        ready = true;
      },
      (error: unknown) => {
        preparing = undefined;
        throw error;
      },
    );
    return preparing;
  };

  const query = async <R extends pg.QueryResultRow>(
    operation: keyof OperationSql,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> => {
    if (!ready) await prepare();
    // A named statement is parsed once per connection; every later run is one
    // Bind/Execute round trip. Under transaction pooling the next run may land
    // on a server connection that never saw the Parse (or already holds the
    // name), so the statement stays unnamed: Parse, Bind and Execute in one
    // round trip, planned every time.
    return pool.query<R>({
      ...(transactionPooling ? {} : { name: `${statementPrefix}_${operation}` }),
      text: sql[operation],
      values,
      query_timeout: queryTimeoutMs,
    } as pg.QueryConfig);
  };

  const backend: StoreBackend = {
    async get(key) {
      const row = (await query<Row>("read", [key])).rows[0];
      if (row === undefined) return null;
      const t = now();
      // Compared before the row is parsed, as the SQL did: an expired row is
      // gone whatever its other columns hold.
      if (Number(row.expires_at) > t) return toRecord(row);
      // Expired: deleted when met, so a clock that goes back can never revive
      // it. Only a row still expired goes: one written meanwhile stays.
      await query("purgeExpiredKey", [key, t]);
      return null;
    },

    async set(key, record, ifVersion) {
      const t = now();
      if (ifVersion === 0) {
        if (record.expiresAt <= t) {
          const result = await query<{ free: boolean }>("createExpired", [key, t]);
          return result.rows[0]?.free === true;
        }
        const { payload, expiresAt, createdAt, version } = record;
        const values = [key, payload, expiresAt, createdAt, version, record.userId ?? null, t];
        return (await query("create", values)).rowCount === 1;
      }
      if (record.expiresAt <= t) {
        return (await query("replaceExpired", [key, ifVersion, t])).rowCount === 1;
      }
      const result = await query("replace", [
        key,
        record.payload,
        record.expiresAt,
        record.createdAt,
        record.version,
        record.userId ?? null,
        ifVersion,
        t,
      ]);
      return result.rowCount === 1;
    },

    async destroy(key) {
      await query("destroy", [key]);
    },

    async touch(key, expiresAt, ifVersion) {
      const result = await query("touch", [key, expiresAt, now(), ifVersion ?? null]);
      return result.rowCount === 1;
    },

    async rename(oldKey, newKey, record, ifVersion): Promise<RenameResult> {
      const t = now();
      const version = ifVersion ?? null;
      if (record.expiresAt <= t) {
        const result = await query<{ moved: boolean; live: boolean; taken: boolean }>(
          "renameExpired",
          [oldKey, t, version, newKey],
        );
        const row = result.rows[0];
        if (row?.moved === true) return "moved";
        return row?.live === true && row.taken ? "taken" : "missing";
      }
      const values = [
        oldKey,
        newKey,
        record.payload,
        record.expiresAt,
        record.createdAt,
        record.version,
        record.userId ?? null,
        t,
        version,
      ];
      const move = async (): Promise<RenameResult> =>
        (await query("rename", values)).rowCount === 1 ? "moved" : "missing";
      try {
        return await move();
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // A row holds the new key. An expired leftover counts as absent:
        // remove it and try once more; a live one means "taken".
        if ((await query("purgeExpiredKey", [newKey, t])).rowCount === 1) {
          try {
            return await move();
          } catch (retryError) {
            if (!isUniqueViolation(retryError)) throw retryError;
          }
        }
        return "taken";
      }
    },

    async listByUser(userId) {
      const result = await query<Row & { key: string }>("listByUser", [userId, now()]);
      return result.rows.map((row) => ({ key: row.key, record: toRecord(row) }));
    },

    async destroyByUser(userId, exceptKey) {
      const result = await query<{ destroyed: string }>("destroyByUser", [
        userId,
        exceptKey ?? null,
        now(),
      ]);
      return toSafeInteger(result.rows[0]?.destroyed ?? 0, "count");
    },

    async count() {
      const result = await query<{ live: string }>("count", [now()]);
      return toSafeInteger(result.rows[0]?.live ?? 0, "count");
    },

    async clear() {
      await query("clear", []);
    },

    async keys(cursor, limit) {
      // The cursor is the last key of the previous page (keyset pagination).
      if (cursor !== null && !isStoreKey(cursor)) {
        throw storeArgumentError(STORE, "keys(): cursor must be null or a cursor keys() returned");
      }
      // One row more than asked tells whether another page exists.
      const result = await query<{ key: string }>("keys", [cursor ?? "", now(), limit + 1]);
      const keys = result.rows.slice(0, limit).map((row) => row.key);
      const more = result.rows.length > limit;
      return { keys, cursor: more ? (keys[keys.length - 1] ?? null) : null };
    },

    async gc(more) {
      if (!ready) await prepare();
      const context: PruneContext = {
        pool,
        sql,
        lockKey,
        statementPrefix,
        queryTimeoutMs,
        statementTimeoutMs: operationTimeoutMs,
        batchSize: resolved.gcBatchSize,
        now,
        more,
      };
      return transactionPooling ? pruneWithBatchLocks(context) : pruneWithSessionLock(context);
    },

    close: () => storePool.release(),
  };

  return {
    backend,
    async migrate() {
      const result = await runMigration(pool, resolved);
      ready = true;
      return result;
    },
  };
}
