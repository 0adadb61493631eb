import {
  isStoreKey,
  type RenameResult,
  type SessionRecord,
  type StoreBackend,
  storeArgumentError,
} from "@sessionkit/core/store";
import type Database from "better-sqlite3";
import type { SqliteDatabase } from "./options.js";
import { type Identifiers, type StatementName, statements } from "./sql.js";

interface Row {
  key: string;
  payload: string;
  expires_at: number;
  created_at: number;
  version: number;
  user_id: string | null;
}

interface RowState {
  version: number;
  expires_at: number;
}

function toRecord(row: Row): SessionRecord {
  const record: SessionRecord = {
    payload: row.payload,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    version: row.version,
  };
  return row.user_id === null ? record : { ...record, userId: row.user_id };
}

/** What the SQLite backend works on. */
export interface SqliteBackendSettings {
  readonly database: SqliteDatabase;
  readonly ids: Identifiers;
  readonly now: () => number;
  /** Most rows one gc batch deletes. */
  readonly gcBatchSize: number;
  /** Whether `close()` closes the connection (the store opened it). */
  readonly owned: boolean;
}

/**
 * The storage logic of the SQLite store. better-sqlite3 is synchronous, so
 * each method runs to completion before it returns; every write but `rename`
 * is a single statement (atomic on its own), and `rename` is one
 * `BEGIN IMMEDIATE` transaction.
 */
export function sqliteBackend(settings: SqliteBackendSettings): StoreBackend {
  const { database, ids, now, gcBatchSize, owned } = settings;
  const text = statements(ids);
  // Prepared on first use, not here: with migrate "off" the table may only
  // appear when store.migrate() runs.
  const prepared = new Map<StatementName, Database.Statement>();
  const sql = (name: StatementName): Database.Statement => {
    let statement = prepared.get(name);
    if (statement === undefined) {
      statement = database.prepare(text[name]);
      prepared.set(name, statement);
    }
    return statement;
  };
  const isFree = (key: string, t: number): boolean =>
    (sql("isFree").get(key, t) as { free: number }).free === 1;
  const create = (key: string, record: SessionRecord, t: number): boolean => {
    const { payload, expiresAt, createdAt, version } = record;
    const userId = record.userId ?? null;
    return (
      sql("createIfFree").run(key, payload, expiresAt, createdAt, version, userId, t).changes === 1
    );
  };
  // One transaction, so there is no moment with both keys or neither, and a
  // write to the old key that lost the race finds nothing to update.
  const renameTransaction = database.transaction(
    (
      oldKey: string,
      newKey: string,
      record: SessionRecord,
      ifVersion: number | undefined,
    ): RenameResult => {
      const t = now();
      const old = sql("selectState").get(oldKey) as RowState | undefined;
      if (old === undefined || old.expires_at <= t) {
        if (old !== undefined) sql("deleteIfExpired").run(oldKey, t);
        return "missing";
      }
      if (ifVersion !== undefined && old.version !== ifVersion) return "missing";
      if (!isFree(newKey, t)) return "taken";
      sql("delete").run(oldKey);
      // An expired leftover under newKey is overwritten; an expired record is not written.
      if (record.expiresAt > t) create(newKey, record, t);
      return "moved";
    },
  );
  // better-sqlite3 answers in the calling step, so every method but gc (which
  // yields between batches) answers at once (no `async`): core resolves the
  // answer itself, with no deadline timer for a call that already ended.
  return {
    get(key) {
      const t = now();
      const row = sql("select").get(key) as Row | undefined;
      if (row === undefined) return null;
      if (row.expires_at <= t) {
        // Deleted on read, so a clock that later goes back revives nothing.
        sql("deleteIfExpired").run(key, t);
        return null;
      }
      return toRecord(row);
    },

    set(key, record, ifVersion) {
      const t = now();
      if (record.expiresAt <= t) {
        // A write of an already expired record is a deletion, under the same condition.
        return ifVersion === 0
          ? isFree(key, t)
          : sql("deleteAtVersion").run(key, ifVersion, t).changes === 1;
      }
      if (ifVersion === 0) return create(key, record, t);
      const { payload, expiresAt, createdAt, version } = record;
      const userId = record.userId ?? null;
      return (
        sql("casUpdate").run(payload, expiresAt, createdAt, version, userId, key, ifVersion, t)
          .changes === 1
      );
    },

    destroy(key) {
      sql("delete").run(key);
    },

    touch(key, expiresAt, ifVersion) {
      const version = ifVersion ?? null;
      return sql("touch").run(expiresAt, key, now(), version, version).changes === 1;
    },

    rename(oldKey, newKey, record, ifVersion) {
      return renameTransaction.immediate(oldKey, newKey, record, ifVersion);
    },

    listByUser(userId) {
      return (sql("listByUser").all(userId, now()) as Row[]).map((row) => ({
        key: row.key,
        record: toRecord(row),
      }));
    },

    destroyByUser(userId, exceptKey) {
      const t = now();
      // Expired rows of the user go too; only live ones count as destroyed.
      const rows = sql("destroyByUser").all(userId, exceptKey ?? null) as { expires_at: number }[];
      return rows.filter((row) => row.expires_at > t).length;
    },

    count() {
      return (sql("count").get(now()) as { n: number }).n;
    },

    clear() {
      sql("clear").run();
    },

    keys(cursor, limit) {
      // The cursor is the last key returned, so only a store key can be one.
      if (cursor !== null && !isStoreKey(cursor)) {
        throw storeArgumentError(
          "sqlite",
          "keys(): cursor must be null or a cursor keys() returned",
        );
      }
      // "" sorts before every key.
      const rows = sql("keys").all(cursor ?? "", now(), limit) as { key: string }[];
      const keys = rows.map((row) => row.key);
      return { keys, cursor: keys.length < limit ? null : (keys[keys.length - 1] ?? null) };
    },

    async gc(more) {
      let total = 0;
      for (;;) {
        // Each batch is its own short statement, so other writers (and other
        // processes) get the lock between batches instead of waiting for the whole pass.
        const removed = sql("gcBatch").run(now(), gcBatchSize).changes;
        total += removed;
        if (removed < gcBatchSize) return total;
        await new Promise<void>((resolve) => setImmediate(resolve));
        // Core's budget: the call answers within operationTimeoutMs, and the
        // next pass (or call) carries on.
        if (!more()) return total;
      }
    },

    close() {
      if (owned && database.open) database.close();
    },
  };
}
