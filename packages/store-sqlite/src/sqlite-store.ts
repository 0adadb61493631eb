import { closeSync, constants, openSync } from "node:fs";
import {
  checkOptionNames,
  defineStore,
  ErrorCode,
  gcIntervalOption,
  type MigrateMode,
  mergeUrlOptions,
  migrateOption,
  type OptionalStoreMethod,
  type ResolvedStoreOptions,
  resolveStoreOptions,
  SessionError,
  type StoreWith,
  storeConfigError,
  wholeNumberOption,
} from "@sessionkit/core/store";
import Database from "better-sqlite3";
import { sqliteBackend } from "./backend.js";
import { openError, sqliteClassifier } from "./classify.js";
import {
  DEFAULT_GC_BATCH_SIZE,
  DEFAULT_GC_INTERVAL_MS,
  DEFAULT_OPERATION_TIMEOUT_MS,
  DEFAULT_TABLE,
  type SqliteDatabase,
  type SqliteStoreCommonOptions,
  type SqliteStoreOptions,
  type SqliteSynchronous,
  synchronousOption,
  tableOption,
} from "./options.js";
import { type MigrationResult, migrateSchema, verifySchema } from "./schema.js";
import type { Identifiers } from "./sql.js";
import { parseSqliteUrl } from "./url.js";

const NAME = "sqlite";

/** A `SessionStore` kept in a SQLite file, with every capability. */
export interface SqliteStore extends StoreWith<OptionalStoreMethod> {
  /** The connection the store uses (owned by the store when it was opened from a `url`). */
  readonly database: SqliteDatabase;
  /** The session table, unquoted. */
  readonly table: string;
  /**
   * Creates or upgrades the session table, its indexes and the
   * `sessionkit_schema_version` row of the table, in one `BEGIN IMMEDIATE`
   * transaction, so processes opening the same file at once serialise and
   * the later ones find the work done. A no-op when the table is current.
   * Rejects with `INVALID_CONFIG` when the table is newer than this package.
   */
  migrate(): Promise<MigrationResult>;
}

interface ResolvedSqliteOptions extends ResolvedStoreOptions {
  /** The file to open, when the store owns the connection. */
  readonly path: string | undefined;
  readonly database: SqliteDatabase | undefined;
  readonly table: string;
  readonly gcIntervalMs: number | false;
  readonly gcBatchSize: number;
  readonly migrate: MigrateMode;
  readonly synchronous: SqliteSynchronous | undefined;
}

function isDatabase(value: unknown): value is SqliteDatabase {
  const candidate = value as Partial<SqliteDatabase> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.prepare === "function" &&
    typeof candidate.pragma === "function" &&
    typeof candidate.transaction === "function"
  );
}

const KNOWN_OPTIONS: readonly string[] = [
  "url",
  "database",
  "table",
  "operationTimeoutMs",
  "gcIntervalMs",
  "gcBatchSize",
  "migrate",
  "synchronous",
  "now",
  "onError",
];

/**
 * Checks every option before anything is opened: a bad one, an unknown
 * (misspelt or renamed) one, or one set both in the URL and in code is
 * `INVALID_CONFIG`.
 */
function resolveOptions(options: SqliteStoreOptions): ResolvedSqliteOptions {
  if (options === null || typeof options !== "object") {
    throw storeConfigError(NAME, "pass { url } or { database }");
  }
  checkOptionNames(NAME, options, KNOWN_OPTIONS);
  const hasUrl = options.url !== undefined;
  if (hasUrl === (options.database !== undefined)) {
    throw storeConfigError(NAME, "pass exactly one of { url } or { database }");
  }
  if (!hasUrl && !isDatabase(options.database)) {
    throw storeConfigError(NAME, "database must be a better-sqlite3 Database");
  }
  let merged: SqliteStoreCommonOptions = options;
  let path: string | undefined;
  if (hasUrl) {
    const parsed = parseSqliteUrl(options.url as string);
    merged = mergeUrlOptions(NAME, options, parsed.options);
    path = parsed.path;
  }
  return {
    ...resolveStoreOptions(NAME, merged, { operationTimeoutMs: DEFAULT_OPERATION_TIMEOUT_MS }),
    path,
    database: options.database,
    table: tableOption(merged.table ?? DEFAULT_TABLE),
    gcIntervalMs: gcIntervalOption(NAME, merged.gcIntervalMs, DEFAULT_GC_INTERVAL_MS),
    gcBatchSize: wholeNumberOption(
      NAME,
      "gcBatchSize",
      merged.gcBatchSize ?? DEFAULT_GC_BATCH_SIZE,
    ),
    migrate: migrateOption(NAME, merged.migrate),
    // A connection the user passed in keeps its own setting unless one is given.
    synchronous: synchronousOption(merged.synchronous) ?? (hasUrl ? "full" : undefined),
  };
}

function identifiers(table: string): Identifiers {
  // Checked by tableOption, so quoting cannot be escaped; quoted anyway so keywords work as names.
  return {
    table: `"${table}"`,
    userIndex: `"${table}_user_id_idx"`,
    expiryIndex: `"${table}_expires_at_idx"`,
  };
}

/**
 * Creates the file with mode 0600 before SQLite opens it, so sessions are never
 * readable by other users, whatever the umask (which can only remove bits).
 * SQLite gives the -wal and -shm files it creates the main file's mode.
 */
function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600));
  } catch (error) {
    // An existing file is the normal restart case; its mode is the owner's choice.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
}

function openFile(path: string, timeoutMs: number): SqliteDatabase {
  try {
    if (path !== ":memory:") createPrivateFile(path);
    return new Database(path, { timeout: timeoutMs });
  } catch (error) {
    throw openError(error, undefined);
  }
}

/** Blocks the thread for `ms`, as SQLite's own busy wait does. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Switches the file to WAL and returns the journal mode it is in now. The
 * switch upgrades its own read lock to a write lock, a step where SQLite
 * returns SQLITE_BUSY at once instead of calling the busy handler (waiting
 * could deadlock), so processes opening one new file together would fail:
 * the switch is retried until `timeoutMs` has passed.
 */
function switchToWal(db: SqliteDatabase, timeoutMs: number): string {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return String(db.pragma("journal_mode = WAL", { simple: true })).toLowerCase();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const busy = typeof code === "string" && code.startsWith("SQLITE_BUSY");
      const left = deadline - performance.now();
      if (!busy || left <= 0) throw error;
      pause(Math.min(10, Math.ceil(left)));
    }
  }
}

/** Sets up a connection for the store and brings its schema to the `migrate` mode's state. */
function prepareDatabase(db: SqliteDatabase, config: ResolvedSqliteOptions): void {
  if (db.readonly) throw storeConfigError(NAME, "the database is read-only");
  // busy_timeout is per connection, so it is set even on a connection the user passed in.
  db.pragma(`busy_timeout = ${config.operationTimeoutMs}`);
  // better-sqlite3 builds default to NORMAL in WAL mode, where a power cut can undo a logout.
  if (config.synchronous !== undefined) {
    db.pragma(`synchronous = ${config.synchronous.toUpperCase()}`);
  }
  if (!db.memory) {
    // WAL lets readers run alongside the one writer. The mode is stored in the file.
    const mode = switchToWal(db, config.operationTimeoutMs);
    if (mode !== "wal") {
      throw storeConfigError(
        NAME,
        `could not switch the database to WAL mode (it stays "${mode}"); network filesystems are not supported`,
      );
    }
  }
  if (config.migrate === "auto") {
    migrateSchema(db, config.table, identifiers(config.table), config.now);
  } else if (config.migrate === "verify") {
    verifySchema(db, config.table);
  }
}

/**
 * Creates a session store in a SQLite file through better-sqlite3: sessions
 * survive restarts, and the processes of one machine (a cluster of workers)
 * may share the file. Give it a `url` (the store opens, owns and closes the
 * file) or a `database` you opened (left open by `close()`).
 *
 * The connection is switched to WAL mode (not for `:memory:`) with a
 * `busy_timeout` of `operationTimeoutMs`. Every write is one statement,
 * atomic on its own, except `rename`, which runs in a `BEGIN IMMEDIATE`
 * transaction. better-sqlite3 is synchronous, so a write waiting for another
 * process's lock blocks the event loop for up to `operationTimeoutMs`, then
 * rejects with the retryable `STORE_BUSY`. Invalid options throw
 * `INVALID_CONFIG`; a file that cannot be opened throws `STORE_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * import { createSqliteStore } from "@sessionkit/store-sqlite";
 *
 * const store = createSqliteStore({ url: "sqlite:./sessions.db" });
 * // … serve requests …
 * await store.close();
 * ```
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const config = resolveOptions(options);
  const { table, now, operationTimeoutMs } = config;
  const owned = config.database === undefined;
  const db = config.database ?? openFile(config.path as string, operationTimeoutMs);
  if (!db.open) {
    throw new SessionError(ErrorCode.STORE_UNAVAILABLE, `${NAME}: the database is not open`, {
      store: NAME,
      operation: "open",
    });
  }
  try {
    prepareDatabase(db, config);
  } catch (error) {
    // Classified first: the classifier reads whether the connection is still open.
    const failure = openError(error, db);
    if (owned) db.close();
    throw failure;
  }
  const ids = identifiers(table);
  const store = defineStore({
    name: NAME,
    backend: sqliteBackend({
      database: db,
      ids,
      now,
      gcBatchSize: config.gcBatchSize,
      owned,
    }),
    classify: sqliteClassifier(db),
    operationTimeoutMs,
    gcIntervalMs: config.gcIntervalMs,
    onError: config.onError,
  }) as StoreWith<OptionalStoreMethod>;

  let closed = false;
  return Object.freeze({
    ...store,
    database: db,
    table,
    migrate(): Promise<MigrationResult> {
      if (closed) {
        return Promise.reject(
          new SessionError(ErrorCode.STORE_UNAVAILABLE, `${NAME}: the store is closed`, {
            store: NAME,
            operation: "migrate",
          }),
        );
      }
      try {
        return Promise.resolve(migrateSchema(db, table, ids, now));
      } catch (error) {
        return Promise.reject(openError(error, db, "migrate"));
      }
    },
    close(): Promise<void> {
      closed = true;
      return store.close();
    },
  });
}
