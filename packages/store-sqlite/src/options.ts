import {
  type GcStoreOptions,
  type MigrateMode,
  type StoreErrorHandler,
  storeConfigError,
} from "@sessionkit/core/store";
import type Database from "better-sqlite3";
import { VERSION_TABLE } from "./schema.js";

/** A better-sqlite3 connection, as returned by `new Database(path)`. */
export type SqliteDatabase = Database.Database;

/** SQLite's `synchronous` settings the store accepts. */
export type SqliteSynchronous = "full" | "normal";

/** The session table when none is given. */
export const DEFAULT_TABLE = "sessionkit_sessions";
/** Default of `operationTimeoutMs`, in ms. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 2_000;
/** Default of `gcIntervalMs`, in ms. */
export const DEFAULT_GC_INTERVAL_MS = 60_000;
/** Default of `gcBatchSize`, in rows. */
export const DEFAULT_GC_BATCH_SIZE = 1_000;

/** Options shared by both ways of giving the store a database. */
export interface SqliteStoreCommonOptions extends GcStoreOptions {
  /**
   * Session table: letters, digits and `_`, at most 63, not starting with a
   * digit or `sqlite_`. Several stores may share one file under different tables.
   * @default "sessionkit_sessions"
   */
  readonly table?: string | undefined;
  /**
   * Longest a call may take, in ms. It is SQLite's `busy_timeout`: how long a
   * write waits for another connection's lock before it rejects with the
   * retryable `STORE_BUSY`. better-sqlite3 is synchronous, so the event loop
   * is blocked while it waits: keep it small. It also bounds each `gc()` pass.
   * @default 2000
   */
  readonly operationTimeoutMs?: number | undefined;
  /**
   * How often expired rows are deleted, in ms, on a timer that never keeps the
   * process alive; `false` for none (expired rows are still never returned;
   * call `gc()` yourself, or run `sessionkit gc` from cron).
   * @default 60000
   */
  readonly gcIntervalMs?: number | false | undefined;
  /**
   * Most rows one `gc()` batch deletes; `gc()` loops, yielding to the event
   * loop and releasing the write lock between batches.
   * @default 1000
   */
  readonly gcBatchSize?: number | undefined;
  /**
   * What the factory does with the schema: `"auto"` creates or upgrades it;
   * `"verify"` only checks that it is current (else `INVALID_CONFIG`), for
   * deployments that run `store.migrate()` or `sessionkit migrate` first;
   * `"off"` does neither. Either way `store.migrate()` is there.
   * @default "auto"
   */
  readonly migrate?: MigrateMode | undefined;
  /**
   * SQLite `synchronous` setting. `"full"` syncs the WAL on every commit, so an
   * acknowledged write (a logout included) survives a power cut or OS crash;
   * `"normal"` is faster and survives application crashes only. Applied to a
   * connection the store opens; on a `database` you pass in, only when given.
   * @default "full" (a `url`); unchanged (a `database`)
   */
  readonly synchronous?: SqliteSynchronous | undefined;
  /**
   * The clock, epoch ms, called on every operation that compares a record's
   * `expiresAt` with the time.
   * @default Date.now
   */
  readonly now?: (() => number) | undefined;
  /**
   * Failures of background work (a scheduled `gc()` pass), with the operation.
   * @default process.emitWarning
   */
  readonly onError?: StoreErrorHandler | undefined;
}

/** Options of `createSqliteStore` when the store opens (and owns) the database from a URL. */
export interface SqliteStoreUrlOptions extends SqliteStoreCommonOptions {
  /**
   * `sqlite:<path>` (relative to the working directory, or absolute:
   * `sqlite:./sessions.db`, `sqlite:/var/lib/app/sessions.db`,
   * `sqlite:///var/lib/app/sessions.db`) or `sqlite::memory:`, with optional
   * query parameters (see `parseSqliteUrl`); an option given here wins over
   * the same URL parameter. A file the store creates gets mode 0600; an
   * existing file keeps its mode. The store closes it on `close()`.
   */
  readonly url: string;
  readonly database?: undefined;
}

/** Options of `createSqliteStore` when the application opens the database itself. */
export interface SqliteStoreDatabaseOptions extends SqliteStoreCommonOptions {
  /**
   * An open better-sqlite3 connection. The store sets `busy_timeout` and WAL
   * mode on it and leaves it open on `close()`.
   */
  readonly database: SqliteDatabase;
  readonly url?: undefined;
}

/** Options of `createSqliteStore`: exactly one of `url` or `database`, plus common options. */
export type SqliteStoreOptions = SqliteStoreUrlOptions | SqliteStoreDatabaseOptions;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The `table` option, checked: `INVALID_CONFIG` unless it is a plain identifier the store may own. */
export function tableOption(value: unknown): string {
  if (
    typeof value !== "string" ||
    !IDENTIFIER.test(value) ||
    /^sqlite_/i.test(value) ||
    value.toLowerCase() === VERSION_TABLE
  ) {
    throw storeConfigError(
      "sqlite",
      `table must be letters, digits and "_" (at most 63, not starting with a digit or "sqlite_", not "${VERSION_TABLE}")`,
    );
  }
  return value;
}

/** The `synchronous` option, checked. */
export function synchronousOption(value: unknown): SqliteSynchronous | undefined {
  if (value === undefined || value === "full" || value === "normal") return value;
  throw storeConfigError("sqlite", 'synchronous must be "full" or "normal"');
}
