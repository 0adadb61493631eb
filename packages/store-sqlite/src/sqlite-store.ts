import { closeSync, constants, openSync } from "node:fs";
import {
  assertStorable,
  ErrorCode,
  EVERY_CAPABILITY,
  isSessionError,
  isStoreKey,
  type OptionalStoreMethod,
  redactSecrets,
  SessionError,
  type SessionRecord,
  type SessionStore,
  type StoreProvider,
  type StoreWith,
} from "@sessionkit/core";
import Database from "better-sqlite3";
import {
  CREATE_VERSION_TABLE,
  type Identifiers,
  MIGRATIONS,
  SCHEMA_VERSION,
  SELECT_VERSION,
  statements,
  UPSERT_VERSION,
  VERSION_TABLE,
} from "./sql.js";

/** A better-sqlite3 connection, as returned by `new Database(path)`. */
export type SqliteDatabase = Database.Database;

const NAME = "sqlite";
const DEFAULT_TABLE = "sessionkit_sessions";
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Options shared by both ways of giving the store a database. */
export interface SqliteStoreBaseOptions {
  /**
   * Session table: letters, digits and `_`, not starting with a digit or
   * `sqlite_`. Several stores may share one file under different tables.
   * @default "sessionkit_sessions"
   */
  readonly table?: string;
  /**
   * How long a write waits for another connection's lock before failing with
   * `STORE_BUSY`, in ms (SQLite `busy_timeout`). better-sqlite3 is synchronous:
   * the event loop is blocked for up to this long while waiting.
   * @default 2000
   */
  readonly busyTimeoutMs?: number;
  /**
   * How often expired rows are deleted, in ms, on a timer that never keeps the
   * process alive. `false` turns the timer off (expired rows are still never
   * returned; call `gc()` yourself).
   * @default 300000
   */
  readonly gcIntervalMs?: number | false;
  /**
   * Most rows one `gc()` transaction deletes; `gc()` loops, yielding to the
   * event loop and releasing the write lock between batches.
   * @default 1000
   */
  readonly gcBatchSize?: number;
  /**
   * Create or upgrade the schema when the store is created. With `false`, run
   * {@link migrateSqliteSchema} yourself first (at deploy time); the factory
   * then only checks the schema version and throws `INVALID_CONFIG` if it differs.
   * @default true
   */
  readonly migrate?: boolean;
  /**
   * SQLite `synchronous` setting. `"full"` syncs the WAL on every commit, so an
   * acknowledged write (a logout included) survives a power cut or OS crash;
   * `"normal"` is faster and survives application crashes only. Applied to a
   * connection the store opens; on a `database` you pass in, only when given.
   * @default "full"
   */
  readonly synchronous?: "full" | "normal";
  /** Clock, epoch ms, compared with each record's `expiresAt`. @default Date.now */
  readonly now?: () => number;
  /**
   * Receives the error of a failed background `gc()` run (the timer never
   * throws). @default emits a process warning
   */
  readonly onGcError?: (error: SessionError) => void;
}

/** Options of {@link createSqliteStore} when the application opens the database itself. */
export interface SqliteStoreDatabaseOptions extends SqliteStoreBaseOptions {
  /**
   * An open better-sqlite3 connection. The store sets `busy_timeout` and WAL
   * mode on it and leaves it open on `close()`.
   */
  readonly database: SqliteDatabase;
  readonly path?: undefined;
}

/** Options of {@link createSqliteStore} when the store opens (and owns) the file. */
export interface SqliteStorePathOptions extends SqliteStoreBaseOptions {
  /**
   * Database file, or `":memory:"`. A file the store creates gets mode 0600;
   * an existing file keeps its mode. The store closes it on `close()`.
   */
  readonly path: string;
  readonly database?: undefined;
}

/** Options of {@link createSqliteStore}: exactly one of `database` or `path`. */
export type SqliteStoreOptions = SqliteStoreDatabaseOptions | SqliteStorePathOptions;

/** Options of {@link migrateSqliteSchema}. */
export interface SqliteMigrateOptions {
  /** Session table. @default "sessionkit_sessions" */
  readonly table?: string;
}

/** A {@link SessionStore} kept in a SQLite file, with every capability. */
export interface SqliteStore extends StoreWith<OptionalStoreMethod> {
  /** The connection the store uses (owned by the store when it was opened from `path`). */
  readonly database: SqliteDatabase;
  /** The session table, unquoted. */
  readonly table: string;
}

const capabilities = EVERY_CAPABILITY;

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

function identifiers(table: string): Identifiers {
  if (
    typeof table !== "string" ||
    !IDENTIFIER.test(table) ||
    /^sqlite_/i.test(table) ||
    table.toLowerCase() === VERSION_TABLE
  ) {
    throw new TypeError(
      `sqlite: table must be letters, digits and "_" (at most 63, not starting with a digit or "sqlite_", not "${VERSION_TABLE}")`,
    );
  }
  // Validated above, so quoting cannot be escaped; quoted anyway so keywords work as names.
  return {
    table: `"${table}"`,
    userIndex: `"${table}_user_id_idx"`,
    expiryIndex: `"${table}_expires_at_idx"`,
  };
}

/** Maps a driver error to the contract's codes; the driver error stays as `cause`. */
function toSessionError(operation: string, error: unknown): SessionError {
  if (isSessionError(error)) return error;
  const driverCode = (error as { code?: unknown } | null)?.code;
  // A Node system error's message holds the file path; its code says enough.
  const systemError = typeof (error as { syscall?: unknown } | null)?.syscall === "string";
  const message = systemError
    ? String(driverCode)
    : redactSecrets(error instanceof Error ? error.message : String(error));
  let code: ErrorCode = ErrorCode.STORE_ERROR;
  if (typeof driverCode === "string") {
    // Extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED_SHAREDCACHE, …) are lock contention too.
    if (/^SQLITE_(BUSY|LOCKED)/.test(driverCode)) code = ErrorCode.STORE_BUSY;
    else if (/^SQLITE_CANTOPEN/.test(driverCode)) code = ErrorCode.STORE_UNAVAILABLE;
  }
  return new SessionError(code, `sqlite: ${operation} failed: ${message}`, {
    store: NAME,
    operation,
    cause: error,
  });
}

function positiveInteger(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new TypeError(`sqlite: ${what} must be a positive integer`);
  }
  return value as number;
}

function optionalVersion(options: unknown, operation: string): number | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`sqlite: ${operation}() options must be an object`);
  }
  const { ifVersion } = options as { ifVersion?: unknown };
  if (ifVersion === undefined) return undefined;
  return positiveInteger(ifVersion, `${operation}() ifVersion`);
}

function assertUserId(userId: unknown, operation: string): asserts userId is string {
  if (typeof userId !== "string" || userId.length === 0) {
    throw new TypeError(`sqlite: ${operation}() userId must be a non-empty string`);
  }
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

function readVersion(database: SqliteDatabase, table: string): number {
  const row = database.prepare(SELECT_VERSION).get(table) as { version: number } | undefined;
  return row?.version ?? 0;
}

function readVersionIfPresent(database: SqliteDatabase, table: string): number {
  const exists = database
    .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?")
    .get(VERSION_TABLE);
  return exists === undefined ? 0 : readVersion(database, table);
}

/**
 * Creates or upgrades the session table, its indexes and the
 * `sessionkit_schema` version table, in one `BEGIN IMMEDIATE` transaction: two
 * processes opening the same new file at once serialise on the write lock, and
 * the second finds the work done. Waits for a lock up to the connection's
 * `busy_timeout`. `createSqliteStore()` runs it unless `migrate: false`.
 * It creates no file: a file first created by `new Database(path)` gets the
 * umask's mode, not 0600, so create it through the store or `chmod` it.
 *
 * @returns the schema version now in place.
 * @example
 * ```ts
 * import Database from "better-sqlite3";
 * import { migrateSqliteSchema } from "@sessionkit/store-sqlite";
 *
 * migrateSqliteSchema(new Database("./sessions.db"), { table: "sessions" });
 * ```
 */
export function migrateSqliteSchema(
  database: SqliteDatabase,
  options: SqliteMigrateOptions = {},
): number {
  const table = options.table ?? DEFAULT_TABLE;
  const ids = identifiers(table);
  try {
    // Already current (every start after the first): no write lock needed.
    if (readVersionIfPresent(database, table) === SCHEMA_VERSION) return SCHEMA_VERSION;
    return database
      .transaction(() => {
        database.exec(CREATE_VERSION_TABLE);
        const current = readVersion(database, table);
        if (current > SCHEMA_VERSION) {
          throw new SessionError(
            ErrorCode.INVALID_CONFIG,
            `sqlite: table "${table}" has schema version ${current}, newer than this package's ${SCHEMA_VERSION}; upgrade @sessionkit/store-sqlite`,
            { store: NAME, operation: "migrate" },
          );
        }
        for (const migration of MIGRATIONS.slice(current)) database.exec(migration(ids));
        if (current !== SCHEMA_VERSION) {
          database.prepare(UPSERT_VERSION).run(table, SCHEMA_VERSION);
        }
        return SCHEMA_VERSION;
      })
      .immediate();
  } catch (error) {
    throw toSessionError("migrate", error);
  }
}

/**
 * Creates a session store in a SQLite file through better-sqlite3: sessions
 * survive restarts, and the processes of one machine (a cluster of workers)
 * may share the file. Give it a path (the store opens, owns and closes the
 * file) or a `Database` you opened (left open by `close()`).
 *
 * The connection is switched to WAL mode (not for `:memory:`) with a
 * `busy_timeout`; every read-modify-write runs in a `BEGIN IMMEDIATE`
 * transaction. better-sqlite3 is synchronous, so a write waiting for another
 * process's lock blocks the event loop for up to `busyTimeoutMs`, then fails
 * with the retryable `STORE_BUSY`.
 *
 * @example
 * ```ts
 * import { createSqliteStore } from "@sessionkit/store-sqlite";
 *
 * const store = createSqliteStore({ path: "./sessions.db" });
 * // … serve requests …
 * await store.close();
 * ```
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  if (options === null || typeof options !== "object") {
    throw new TypeError("createSqliteStore: pass { path } or { database }");
  }
  const hasDatabase = options.database !== undefined;
  const hasPath = options.path !== undefined;
  if (hasDatabase === hasPath) {
    throw new TypeError("createSqliteStore: pass exactly one of { path } or { database }");
  }
  if (hasPath && (typeof options.path !== "string" || options.path === "")) {
    throw new TypeError("createSqliteStore: path must be a non-empty string");
  }
  const table = options.table ?? DEFAULT_TABLE;
  const ids = identifiers(table);
  const busyTimeoutMs = options.busyTimeoutMs ?? 2_000;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new TypeError("createSqliteStore: busyTimeoutMs must be a non-negative integer (ms)");
  }
  const gcIntervalMs = options.gcIntervalMs ?? 300_000;
  if (gcIntervalMs !== false && !(Number.isFinite(gcIntervalMs) && gcIntervalMs > 0)) {
    throw new TypeError("createSqliteStore: gcIntervalMs must be a positive number (ms) or false");
  }
  const gcBatchSize = positiveInteger(options.gcBatchSize ?? 1_000, "gcBatchSize");
  const synchronous = options.synchronous ?? (options.database === undefined ? "full" : undefined);
  if (synchronous !== undefined && synchronous !== "full" && synchronous !== "normal") {
    throw new TypeError('createSqliteStore: synchronous must be "full" or "normal"');
  }
  const now = options.now ?? Date.now;
  if (typeof now !== "function") throw new TypeError("createSqliteStore: now must be a function");
  const onGcError =
    options.onGcError ??
    ((error: SessionError) => process.emitWarning(error.message, { code: error.code }));

  const owned = options.database === undefined;
  let db: SqliteDatabase;
  if (options.database === undefined) {
    const path = options.path;
    try {
      if (path !== ":memory:") createPrivateFile(path);
      db = new Database(path, { timeout: busyTimeoutMs });
    } catch (error) {
      const wrapped = toSessionError("open", error);
      // A file that cannot be created or opened is the embedded store's "server down".
      throw wrapped.code === ErrorCode.STORE_ERROR
        ? new SessionError(ErrorCode.STORE_UNAVAILABLE, wrapped.message, {
            store: NAME,
            operation: "open",
            cause: error,
          })
        : wrapped;
    }
  } else {
    db = options.database;
    if (!db.open) {
      throw new SessionError(ErrorCode.STORE_UNAVAILABLE, "sqlite: the database is not open", {
        store: NAME,
        operation: "open",
      });
    }
  }

  let prepared: ReturnType<typeof prepare>;
  try {
    if (db.readonly) {
      throw new SessionError(ErrorCode.INVALID_CONFIG, "sqlite: the database is read-only", {
        store: NAME,
        operation: "open",
      });
    }
    // busy_timeout is per connection, so it is set even on a connection the user passed in.
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // better-sqlite3 builds default to NORMAL in WAL mode, where a power cut can undo a logout.
    if (synchronous !== undefined) db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
    if (!db.memory) {
      // WAL lets readers run alongside the one writer. The mode is stored in the file.
      const mode = String(db.pragma("journal_mode = WAL", { simple: true })).toLowerCase();
      if (mode !== "wal") {
        throw new SessionError(
          ErrorCode.INVALID_CONFIG,
          `sqlite: could not switch the database to WAL mode (it stays "${mode}"); network filesystems are not supported`,
          { store: NAME, operation: "open" },
        );
      }
    }
    if (options.migrate ?? true) {
      migrateSqliteSchema(db, { table });
    } else {
      const version = readVersionIfPresent(db, table);
      if (version !== SCHEMA_VERSION) {
        throw new SessionError(
          ErrorCode.INVALID_CONFIG,
          `sqlite: table "${table}" is at schema version ${version}, expected ${SCHEMA_VERSION}; run migrateSqliteSchema() or drop migrate: false`,
          { store: NAME, operation: "open" },
        );
      }
    }
    prepared = prepare(db, ids);
  } catch (error) {
    if (owned) db.close();
    throw toSessionError("open", error);
  }
  const sql = prepared;
  const { setTransaction, renameTransaction } = sql;

  let closed = false;
  /** Runs synchronous driver work, turning every failure into a `SessionError`. */
  const guard = <T>(operation: string, work: () => T): T => {
    if (closed || !db.open) {
      throw new SessionError(ErrorCode.STORE_UNAVAILABLE, "sqlite: the store is closed", {
        store: NAME,
        operation,
      });
    }
    try {
      return work();
    } catch (error) {
      throw toSessionError(operation, error);
    }
  };

  let gcRunning = false;
  const gc = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      // Each batch is its own short transaction, so other writers (and other
      // processes) get the lock between batches instead of waiting for the whole sweep.
      const removed = guard("gc", () => sql.gcBatch.run(now(), gcBatchSize).changes);
      total += removed;
      if (removed < gcBatchSize) return total;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };

  let timer: NodeJS.Timeout | undefined;
  if (gcIntervalMs !== false) {
    timer = setInterval(() => {
      if (gcRunning) return;
      gcRunning = true;
      gc().then(
        () => {
          gcRunning = false;
        },
        (error: unknown) => {
          gcRunning = false;
          // A sweep cut short by close() is expected, not worth a warning.
          if (!closed) onGcError(toSessionError("gc", error));
        },
      );
    }, gcIntervalMs);
    timer.unref();
  }

  return {
    name: NAME,
    capabilities,
    database: db,
    table,

    async get(key) {
      assertStorable(NAME, key);
      return guard("get", () => {
        const t = now();
        const row = sql.select.get(key) as Row | undefined;
        if (row === undefined) return null;
        if (row.expires_at <= t) {
          // Deleted on read, so a clock that later goes back revives nothing (A20).
          sql.deleteIfExpired.run(key, t);
          return null;
        }
        return toRecord(row);
      });
    },

    async set(key, record, setOptions) {
      assertStorable(NAME, key, record);
      const ifVersion = (setOptions as { ifVersion?: unknown } | undefined)?.ifVersion;
      if (!Number.isSafeInteger(ifVersion) || (ifVersion as number) < 0) {
        throw new TypeError("sqlite: set() ifVersion must be 0 or a positive integer");
      }
      return guard("set", () => {
        const t = now();
        // A record already past its expiry is a deletion: the rare path, in a transaction.
        if (record.expiresAt <= t)
          return setTransaction.immediate(key, record, ifVersion as number);
        const userId = record.userId ?? null;
        const { payload, expiresAt, createdAt, version } = record;
        return ifVersion === 0
          ? sql.createIfFree.run(key, payload, expiresAt, createdAt, version, userId, t).changes ===
              1
          : sql.casUpdate.run(payload, expiresAt, createdAt, version, userId, key, ifVersion, t)
              .changes === 1;
      });
    },

    async destroy(key) {
      assertStorable(NAME, key);
      guard("destroy", () => sql.delete.run(key));
    },

    async touch(key, expiresAt, touchOptions) {
      assertStorable(NAME, key);
      if (!Number.isSafeInteger(expiresAt)) {
        throw new TypeError("sqlite: touch() expiresAt must be a safe integer (epoch ms)");
      }
      const ifVersion = optionalVersion(touchOptions, "touch") ?? null;
      return guard(
        "touch",
        () => sql.touch.run(expiresAt, key, now(), ifVersion, ifVersion).changes === 1,
      );
    },

    async rename(oldKey, newKey, record, renameOptions) {
      assertStorable(NAME, oldKey);
      assertStorable(NAME, newKey, record);
      const ifVersion = optionalVersion(renameOptions, "rename");
      const outcome = guard("rename", () =>
        renameTransaction.immediate(oldKey, newKey, record, ifVersion),
      );
      // Thrown outside the transaction so it is not mistaken for a driver failure;
      // with 256-bit keys a taken key means a caller bug, as in the memory store.
      if (outcome === "taken")
        throw new TypeError("sqlite: rename(): the new key is already in use");
      return outcome === "moved";
    },

    async listByUser(userId) {
      assertUserId(userId, "listByUser");
      return guard("listByUser", () =>
        (sql.listByUser.all(userId, now()) as Row[]).map((row) => ({
          key: row.key,
          record: toRecord(row),
        })),
      );
    },

    async destroyByUser(userId, destroyOptions = {}) {
      assertUserId(userId, "destroyByUser");
      const exceptKey = destroyOptions.exceptKey;
      if (exceptKey !== undefined) assertStorable(NAME, exceptKey);
      return guard("destroyByUser", () => {
        const t = now();
        // Expired rows of the user go too; only live ones count as destroyed.
        const rows = sql.destroyByUser.all(userId, exceptKey ?? null) as { expires_at: number }[];
        return rows.filter((row) => row.expires_at > t).length;
      });
    },

    async count() {
      return guard("count", () => (sql.count.get(now()) as { n: number }).n);
    },

    async clear() {
      guard("clear", () => sql.clear.run());
    },

    async keys(keyOptions = {}) {
      const limit = positiveInteger(keyOptions.limit ?? 500, "keys() limit");
      const cursor = keyOptions.cursor ?? null;
      if (cursor !== null && !isStoreKey(cursor)) {
        throw new TypeError("sqlite: keys() cursor must be null or a cursor keys() returned");
      }
      return guard("keys", () => {
        // The cursor is the last key returned; "" sorts before every key.
        const rows = sql.keys.all(cursor ?? "", now(), limit) as { key: string }[];
        const keys = rows.map((row) => row.key);
        return { keys, cursor: keys.length < limit ? null : (keys[keys.length - 1] ?? null) };
      });
    },

    gc,

    async close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      if (closed) return;
      closed = true;
      if (owned && db.open) {
        try {
          db.close();
        } catch (error) {
          throw toSessionError("close", error);
        }
      }
    },
  };

  function prepare(database: SqliteDatabase, names: Identifiers) {
    const text = statements(names);
    // Prepared once: each call binds values to an already compiled statement.
    const s = {
      select: database.prepare(text.select),
      selectState: database.prepare(text.selectState),
      upsert: database.prepare(text.upsert),
      casUpdate: database.prepare(text.casUpdate),
      createIfFree: database.prepare(text.createIfFree),
      delete: database.prepare(text.delete),
      deleteIfExpired: database.prepare(text.deleteIfExpired),
      touch: database.prepare(text.touch),
      listByUser: database.prepare(text.listByUser),
      destroyByUser: database.prepare(text.destroyByUser),
      count: database.prepare(text.count),
      clear: database.prepare(text.clear),
      keys: database.prepare(text.keys),
      gcBatch: database.prepare(text.gcBatch),
    };
    const write = (key: string, record: SessionRecord): void => {
      s.upsert.run(
        key,
        record.payload,
        record.expiresAt,
        record.createdAt,
        record.version,
        record.userId ?? null,
      );
    };
    // Compare-and-set: read and write under one BEGIN IMMEDIATE, so no other
    // connection or process can write between the version check and the write.
    const setTransaction = database.transaction(
      (key: string, record: SessionRecord, ifVersion: number): boolean => {
        const t = now();
        const state = s.selectState.get(key) as RowState | undefined;
        const live = state !== undefined && state.expires_at > t;
        if (ifVersion === 0 ? live : !live || state.version !== ifVersion) {
          if (state !== undefined && !live) s.delete.run(key);
          return false;
        }
        // A record already past its expiry is a deletion, never a stored row.
        if (record.expiresAt <= t) s.delete.run(key);
        else write(key, record);
        return true;
      },
    );
    // One transaction, so there is no moment with both keys or neither, and a
    // write to the old key that lost the race finds nothing to update.
    const renameTransaction = database.transaction(
      (
        oldKey: string,
        newKey: string,
        record: SessionRecord,
        ifVersion: number | undefined,
      ): "moved" | "missing" | "taken" => {
        const t = now();
        const old = s.selectState.get(oldKey) as RowState | undefined;
        if (old === undefined || old.expires_at <= t) {
          if (old !== undefined) s.delete.run(oldKey);
          return "missing";
        }
        if (ifVersion !== undefined && old.version !== ifVersion) return "missing";
        const target = s.selectState.get(newKey) as RowState | undefined;
        if (target !== undefined && target.expires_at > t) return "taken";
        s.delete.run(oldKey);
        if (record.expiresAt <= t) s.delete.run(newKey);
        else write(newKey, record);
        return "moved";
      },
    );
    return { ...s, setTransaction, renameTransaction };
  }
}

/** Parses `sqlite:./file.db`, `sqlite:/abs/file.db`, `sqlite:///abs/file.db` or `sqlite::memory:`. */
function parseUrl(url: string): SqliteStorePathOptions {
  if (typeof url !== "string" || !/^sqlite:/i.test(url)) {
    throw new TypeError('sqlite: the URL must start with "sqlite:"');
  }
  let rest = url.slice("sqlite:".length);
  const question = rest.indexOf("?");
  const query = question === -1 ? null : new URLSearchParams(rest.slice(question + 1));
  if (question !== -1) rest = rest.slice(0, question);
  if (rest.startsWith("//")) rest = rest.slice(2);
  if (rest === "") {
    throw new SessionError(
      ErrorCode.INVALID_CONFIG,
      'sqlite: the URL names no file; use "sqlite:./sessions.db" or "sqlite::memory:"',
    );
  }
  const number = (name: string): number | undefined => {
    const value = query?.get(name);
    return value === null || value === undefined ? undefined : Number(value);
  };
  const table = query?.get("table");
  const busyTimeoutMs = number("busyTimeoutMs");
  const gc = query?.get("gcIntervalMs");
  return {
    path: rest,
    ...(table ? { table } : {}),
    ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }),
    ...(gc ? { gcIntervalMs: gc === "false" ? false : Number(gc) } : {}),
  };
}

/**
 * Registry provider for the SQLite store: opens `sqlite:` URLs such as
 * `sqlite:./sessions.db`, `sqlite:/abs/path.db` or `sqlite::memory:`, with
 * optional query parameters `table`, `busyTimeoutMs` and `gcIntervalMs`
 * (`sqlite:./sessions.db?gcIntervalMs=false`).
 */
export const sqliteProvider: StoreProvider<SqliteStoreOptions> = {
  name: NAME,
  schemes: [NAME],
  create: (options) => createSqliteStore(options),
  fromUrl: (url) => createSqliteStore(parseUrl(url)),
};
