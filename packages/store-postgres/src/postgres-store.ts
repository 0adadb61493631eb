import { createHash } from "node:crypto";
import {
  assertStorable,
  ErrorCode,
  EVERY_CAPABILITY,
  isStorableText,
  isStoreKey,
  type OptionalStoreMethod,
  redactSecrets,
  SessionError,
  type SessionRecord,
  type SessionStore,
  type StoreProvider,
  type StoreWith,
} from "@sessionkit/core";
import pg from "pg";
import {
  CURRENT_SCHEMA_VERSION,
  MIGRATIONS,
  migrationSql,
  operationSql,
  SCHEMA_NAME,
  TABLE_NAME,
} from "./schema.js";

const STORE = "postgres";

/**
 * The connection pooler in front of PostgreSQL, if any (option `pooler`):
 * `"none"` for a direct connection or session pooling, `"transaction"` for
 * transaction pooling (PgBouncer `pool_mode = transaction`).
 */
export type PostgresPooler = "none" | "transaction";

/** Options shared by both ways of connecting. */
interface PostgresStoreCommonOptions {
  /**
   * Schema holding the session table. Lowercase letters, digits and `_`, at
   * most 63 characters; always quoted in SQL.
   * @default "public"
   */
  readonly schema?: string;
  /**
   * Session table name. Lowercase letters, digits and `_`, at most 48
   * characters (room for index-name suffixes); always quoted in SQL.
   * @default "sessionkit_sessions"
   */
  readonly table?: string;
  /**
   * Run {@link PostgresStore.migrate} before the first operation. Off by
   * default: the application's database role then needs no DDL rights, and
   * schema changes happen at deploy time, not on a request.
   * @default false
   */
  readonly createTableIfMissing?: boolean;
  /**
   * Create the table `UNLOGGED`: faster writes, but PostgreSQL empties it after
   * a crash and it is not replicated. Only applies when the table is created.
   * @default false
   */
  readonly unlogged?: boolean;
  /**
   * Server-side `statement_timeout` of each statement, in ms. Applied to the
   * pool the store creates; with `{ pool }` set it on your pool yourself. With
   * `pooler: "transaction"` only gc batches get it (set `statement_timeout`
   * on the database role for the other statements). A client-side read timeout of this plus
   * 500 ms is applied to every query in both modes, so a hung server also
   * fails in time.
   * @default 2000
   */
  readonly statementTimeoutMs?: number;
  /**
   * How often expired rows are pruned, in ms, on a jittered (±25 %) timer that
   * never keeps the process alive. `false` turns the timer off (call `gc()`
   * yourself, e.g. from a cron job).
   * @default 300000
   */
  readonly gcIntervalMs?: number | false;
  /**
   * Most rows one `gc()` batch deletes, in rows; `gc()` loops until a batch
   * comes back short.
   * @default 1000
   */
  readonly gcBatchSize?: number;
  /**
   * The connection pooler between the store and PostgreSQL. `"none"` (a direct
   * connection, or PgBouncer in session pooling mode) runs every statement as
   * a named prepared statement and gc under one session-level advisory lock.
   * `"transaction"` is for a pooler in transaction pooling mode (PgBouncer's
   * `pool_mode = transaction`, whichever version), where consecutive statements
   * of one client may run on different server connections: the store then
   * uses unnamed statements (parsed and planned on every call), takes gc's
   * lock per batch with `pg_try_advisory_xact_lock` inside that batch's
   * transaction, and sets no session-level parameter (its own pool sends no
   * `statement_timeout` at connect: set one on the role or database, e.g.
   * `ALTER ROLE app SET statement_timeout = '2s'`; the client-side timeout
   * still applies).
   * @default "none"
   */
  readonly pooler?: PostgresPooler;
  /** Clock, epoch ms: every expiry comparison uses it, never the database clock. @default Date.now */
  readonly now?: () => number;
  /**
   * Called with errors nobody awaits: a failed background `gc()` and errors of
   * idle pool clients (a dropped connection). They never crash the process.
   * @default a function that ignores them
   */
  readonly onError?: (error: SessionError) => void;
}

/** Use a `pg.Pool` you created; `close()` leaves it open. */
export interface PostgresStorePoolOptions extends PostgresStoreCommonOptions {
  /** Your pool. Give it a `statement_timeout` and `connectionTimeoutMillis` of your own. */
  readonly pool: pg.Pool;
  readonly connectionString?: never;
}

/** Let the store create (and on `close()` end) its own pool. */
export interface PostgresStoreUrlOptions extends PostgresStoreCommonOptions {
  /** A `postgres://` URL. Never copied into an error message. */
  readonly connectionString: string;
  readonly pool?: never;
  /**
   * Time allowed to open a connection or to wait for a free pooled one, in ms
   * (pg's `connectionTimeoutMillis`).
   * @default 2000
   */
  readonly connectTimeoutMs?: number;
  /**
   * Further `pg.Pool` settings (`max`, `ssl`, …). The store's own timeouts and
   * the connection string take precedence.
   * @default {}
   */
  readonly poolConfig?: Omit<pg.PoolConfig, "connectionString">;
}

/** Options of {@link createPostgresStore}: `{ pool }` or `{ connectionString }`. */
export type PostgresStoreOptions = PostgresStorePoolOptions | PostgresStoreUrlOptions;

/** What {@link PostgresStore.migrate} did. */
export interface MigrationResult {
  /** Schema version found before, `0` when the table was not managed yet. */
  readonly fromVersion: number;
  /** Schema version now. Equal to `fromVersion` when nothing was to do. */
  readonly toVersion: number;
}

/** A {@link SessionStore} backed by one PostgreSQL table, with every capability. */
export interface PostgresStore extends StoreWith<OptionalStoreMethod> {
  /** The schema of the session table. */
  readonly schema: string;
  /** The session table's name. */
  readonly table: string;
  /**
   * Creates or upgrades the table, its indexes and the version table, under a
   * transaction-scoped advisory lock, so many instances may call it at once.
   * A no-op when the table is current.
   */
  migrate(): Promise<MigrationResult>;
}

const capabilities = EVERY_CAPABILITY;

const MAX_KEYS_LIMIT = 10_000;
/** Bound on each statement of `migrate()`, in ms. */
const MIGRATE_TIMEOUT_MS = 30_000;

const UNAVAILABLE_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ETIMEDOUT",
]);
// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections.
const UNAVAILABLE_SQL_CODES = new Set(["57P01", "57P02", "57P03", "53300"]);
// 55P03 lock_not_available, 40001 serialization_failure, 40P01 deadlock_detected.
const BUSY_SQL_CODES = new Set(["55P03", "40001", "40P01"]);

function invalidConfig(message: string): SessionError {
  return new SessionError(ErrorCode.INVALID_CONFIG, `${STORE}: ${message}`, { store: STORE });
}

/** The stable code for a driver error. */
function classify(error: unknown): ErrorCode {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : "";
  if (code === "57014" || message === "Query read timeout") return ErrorCode.STORE_TIMEOUT;
  // pg-pool's wait for a connection, and pg's connect timeout: no answer in time.
  if (
    message.startsWith("timeout exceeded when trying to connect") ||
    message.includes("due to connection timeout")
  ) {
    return ErrorCode.STORE_TIMEOUT;
  }
  if (typeof code === "string") {
    if (BUSY_SQL_CODES.has(code)) return ErrorCode.STORE_BUSY;
    if (UNAVAILABLE_SQL_CODES.has(code) || code.startsWith("08")) {
      return ErrorCode.STORE_UNAVAILABLE;
    }
    if (UNAVAILABLE_NODE_CODES.has(code)) return ErrorCode.STORE_UNAVAILABLE;
  }
  // Node's happy-eyeballs connect reports an AggregateError of per-address failures.
  if (
    error instanceof AggregateError &&
    error.errors.some((e) => classify(e) !== ErrorCode.STORE_ERROR)
  ) {
    return ErrorCode.STORE_UNAVAILABLE;
  }
  if (
    /Connection terminated|not queryable|Client has encountered a connection error/i.test(message)
  ) {
    return ErrorCode.STORE_UNAVAILABLE;
  }
  return ErrorCode.STORE_ERROR;
}

/** Wraps any driver failure in a `SessionError`; our own TypeErrors and SessionErrors pass through. */
function toSessionError(operation: string, error: unknown): Error {
  if (error instanceof TypeError || error instanceof SessionError) return error;
  const code = classify(error);
  const detail = error instanceof Error ? error.message : String(error);
  const sqlCode = (error as { code?: unknown } | null)?.code;
  let hint = "";
  if (sqlCode === "42P01") {
    hint = " (the table does not exist: call store.migrate() or set createTableIfMissing)";
  } else if (sqlCode === "42P05" || sqlCode === "26000") {
    // What named statements look like through a transaction-pooling PgBouncer.
    hint =
      ' (prepared statements are not kept per connection: behind a pooler in transaction mode, set the store option pooler: "transaction")';
  } else if (detail.includes("unsupported startup parameter")) {
    hint =
      ' (the pooler rejects this connection parameter: with pooler: "transaction" the store\'s own pool sends none; remove it from your pool settings)';
  }
  return new SessionError(code, `${STORE} ${operation} failed: ${redactSecrets(detail)}${hint}`, {
    store: STORE,
    operation,
    cause: error,
  });
}

/** Parses an int8 column (pg returns it as a string) into a safe integer. */
function toSafeInteger(value: unknown, column: string): number {
  const n = typeof value === "number" ? value : Number(value);
  // A plain Error: run() wraps it as STORE_ERROR for the operation at hand.
  if (!Number.isSafeInteger(n)) throw new Error(`column ${column} holds a non-integer`);
  return n;
}

interface Row {
  key?: string;
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

function positiveInteger(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw invalidConfig(`${name} must be a positive integer`);
  }
  return value as number;
}

function checkUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== "string" || userId.length === 0) {
    throw new TypeError(`${STORE}: userId must be a non-empty string`);
  }
}

/**
 * Creates a session store on a PostgreSQL table. Pass a `pg.Pool` you made
 * (`{ pool }`, left open by `close()`) or a `connectionString` (the store
 * then owns its pool, with `statement_timeout` and a connect timeout set).
 * Run `migrate()` once at deploy or start-up, or set `createTableIfMissing`.
 *
 * Option errors (a bad identifier, a non-positive timeout, neither or both of
 * `pool` and `connectionString`) throw a `SessionError` with code
 * `INVALID_CONFIG`; bad arguments to an operation throw a `TypeError`.
 *
 * @example
 * ```ts
 * import { createSessionManager } from "@sessionkit/core";
 * import { createPostgresStore } from "@sessionkit/store-postgres";
 *
 * const store = createPostgresStore({ connectionString: process.env.DATABASE_URL ?? "" });
 * await store.migrate();
 * const sessions = createSessionManager({ store, secrets: [process.env.SESSION_SECRET ?? ""] });
 * ```
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  if (options === null || typeof options !== "object") {
    throw invalidConfig("options must be an object with `pool` or `connectionString`");
  }
  const hasPool = options.pool !== undefined;
  const hasUrl = options.connectionString !== undefined;
  if (hasPool === hasUrl) {
    throw invalidConfig("pass exactly one of `pool` and `connectionString`");
  }
  const schema = options.schema ?? "public";
  const table = options.table ?? "sessionkit_sessions";
  if (typeof schema !== "string" || !SCHEMA_NAME.test(schema)) {
    throw invalidConfig(`schema must match ${SCHEMA_NAME}`);
  }
  if (typeof table !== "string" || !TABLE_NAME.test(table)) {
    throw invalidConfig(`table must match ${TABLE_NAME}`);
  }
  const statementTimeoutMs = positiveInteger(
    options.statementTimeoutMs ?? 2_000,
    "statementTimeoutMs",
  );
  const gcBatchSize = positiveInteger(options.gcBatchSize ?? 1_000, "gcBatchSize");
  const gcIntervalMs = options.gcIntervalMs ?? 300_000;
  if (gcIntervalMs !== false) positiveInteger(gcIntervalMs, "gcIntervalMs");
  const now = options.now ?? Date.now;
  if (typeof now !== "function") throw invalidConfig("now must be a function");
  const onError = options.onError ?? (() => {});
  const pooler = options.pooler ?? "none";
  if (pooler !== "none" && pooler !== "transaction") {
    throw invalidConfig('pooler must be "none" or "transaction"');
  }
  // Under transaction pooling, consecutive statements may reach different
  // server connections: nothing may rely on per-connection state.
  const transactionPooling = pooler === "transaction";
  // The server's statement_timeout fires first and leaves the connection
  // usable; this client-side bound only catches a server that stopped
  // answering altogether (the timed-out connection is then discarded).
  const queryTimeoutMs = statementTimeoutMs + 500;

  let pool: pg.Pool;
  let ownsPool: boolean;
  if (options.pool !== undefined) {
    pool = options.pool;
    ownsPool = false;
  } else {
    if (typeof options.connectionString !== "string" || options.connectionString === "") {
      throw invalidConfig("connectionString must be a non-empty string");
    }
    const connectTimeoutMs = positiveInteger(options.connectTimeoutMs ?? 2_000, "connectTimeoutMs");
    pool = new pg.Pool({
      application_name: "sessionkit",
      keepAlive: true,
      ...options.poolConfig,
      connectionString: options.connectionString,
      connectionTimeoutMillis: connectTimeoutMs,
      // A startup parameter, i.e. per server connection: PgBouncer rejects it
      // in transaction pooling (and could not keep it per client anyway).
      ...(transactionPooling ? {} : { statement_timeout: statementTimeoutMs }),
      query_timeout: queryTimeoutMs,
    });
    ownsPool = true;
  }

  // An idle client losing its connection emits "error" on the pool; without a
  // listener Node would crash the process. A user's pool that already has a
  // listener is left to it.
  const onPoolError = (error: Error): void => {
    onError(toSessionError("idle", error) as SessionError);
  };
  const listensToPool = ownsPool || pool.listenerCount("error") === 0;
  if (listensToPool) pool.on("error", onPoolError);

  const sql = operationSql(schema, table);
  const qualifiedName = `${schema}.${table}`;
  // Prepared statement names are per connection and a user's pool may serve
  // several stores: the hash keeps one table's statements apart from another's.
  const statementPrefix = `sessionkit_${createHash("sha256").update(qualifiedName).digest("hex").slice(0, 12)}`;

  let closed = false;
  let ready: Promise<unknown> | undefined;

  const ensureReady = async (): Promise<void> => {
    if (options.createTableIfMissing !== true) return;
    if (ready === undefined) {
      // A failed attempt is forgotten so the next operation tries again.
      ready = migrate().catch((error: unknown) => {
        ready = undefined;
        throw error;
      });
    }
    await ready;
  };

  const query = async <R extends pg.QueryResultRow>(
    operation: keyof typeof sql,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> => {
    await ensureReady();
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

  /** Runs `fn`, turning every driver failure into a SessionError for `operation`. */
  const run = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    if (closed && operation !== "gc" && operation !== "close") {
      throw new SessionError(ErrorCode.STORE_UNAVAILABLE, `${STORE}: the store is closed`, {
        store: STORE,
        operation,
      });
    }
    try {
      return await fn();
    } catch (error) {
      throw toSessionError(operation, error);
    }
  };

  /**
   * Checks out a client for a multi-statement job. pg-pool drops its own
   * "error" listener while a client is checked out; a connection lost between
   * two of our statements would then emit an unhandled "error" and crash the
   * process. The next statement fails instead (STORE_UNAVAILABLE).
   */
  const checkout = async (): Promise<{
    client: pg.PoolClient;
    release(failure: unknown): void;
  }> => {
    const client = await pool.connect();
    const ignore = (): void => {};
    client.on("error", ignore);
    return {
      client,
      release(failure) {
        client.off("error", ignore);
        // A failed connection is destroyed, never reused; that also rolls back
        // its transaction and frees its session-level locks.
        client.release(failure === undefined ? undefined : (failure as Error));
      },
    };
  };

  async function migrate(): Promise<MigrationResult> {
    const m = migrationSql(schema);
    return run("migrate", async () => {
      const { client, release } = await checkout();
      let failure: unknown;
      try {
        // Migrations may wait for another instance's migration and run DDL:
        // they get a longer bound than ordinary statements, but still one.
        const exec = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
          client.query<R>({
            text,
            values,
            query_timeout: MIGRATE_TIMEOUT_MS + 500,
          } as pg.QueryConfig);
        await exec("BEGIN");
        await exec(`SET LOCAL statement_timeout = ${MIGRATE_TIMEOUT_MS}`);
        await exec(m.lock, [schema]);
        const exists = await exec(m.schemaExists, [schema]);
        if (exists.rowCount === 0) await exec(m.createSchema);
        await exec(m.createVersionTable);
        const found = await exec<{ version: number }>(m.readVersion, [table]);
        const fromVersion = found.rows[0]?.version ?? 0;
        if (fromVersion > CURRENT_SCHEMA_VERSION) {
          throw new SessionError(
            ErrorCode.STORE_ERROR,
            `${STORE}: table ${qualifiedName} is at schema version ${fromVersion}, newer than this package supports (${CURRENT_SCHEMA_VERSION}); upgrade @sessionkit/store-postgres`,
            { store: STORE, operation: "migrate" },
          );
        }
        for (const migration of MIGRATIONS) {
          if (migration.version <= fromVersion) continue;
          for (const statement of migration.statements(schema, table, options.unlogged === true)) {
            await exec(statement);
          }
        }
        if (fromVersion < CURRENT_SCHEMA_VERSION) {
          await exec(m.writeVersion, [table, CURRENT_SCHEMA_VERSION, now()]);
        }
        await exec("COMMIT");
        return { fromVersion, toVersion: Math.max(fromVersion, CURRENT_SCHEMA_VERSION) };
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        release(failure);
      }
    });
  }

  let gcRunning: Promise<number> | undefined;

  async function gcOnce(): Promise<number> {
    const { client, release } = await checkout();
    let failure: unknown;
    let locked = false;
    try {
      // A session-level lock (not a transaction one) so each batch commits on
      // its own and holds its row locks only briefly.
      const lock = await client.query<{ locked: boolean }>({
        text: sql.gcLock,
        values: [qualifiedName],
        query_timeout: queryTimeoutMs,
      } as pg.QueryConfig);
      locked = lock.rows[0]?.locked === true;
      if (!locked) return 0;
      let removed = 0;
      for (;;) {
        const result = await client.query({
          name: `${statementPrefix}_gcBatch`,
          text: sql.gcBatch,
          values: [now(), gcBatchSize],
          query_timeout: queryTimeoutMs,
        } as pg.QueryConfig);
        const count = result.rowCount ?? 0;
        removed += count;
        if (count < gcBatchSize || closed) break;
      }
      return removed;
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      if (locked && failure === undefined) {
        try {
          await client.query(sql.gcUnlock, [qualifiedName]);
        } catch (error) {
          failure = error;
        }
      }
      release(failure);
    }
  }

  /**
   * gc under transaction pooling: a session-level lock would stay with
   * whichever server connection ran it (and leak to the next client of that
   * connection), so each batch is a transaction of its own that takes the
   * lock first. Another instance can take the lock between two batches: this
   * one then stops at its next batch and the other carries on; SKIP LOCKED
   * plus the repeated expiry check delete (and count) every row exactly once.
   */
  async function gcOncePerTransaction(): Promise<number> {
    const { client, release } = await checkout();
    let failure: unknown;
    const exec = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
      client.query<R>({ text, values, query_timeout: queryTimeoutMs } as pg.QueryConfig);
    try {
      let removed = 0;
      for (;;) {
        await exec("BEGIN");
        const lock = await exec<{ locked: boolean }>(sql.gcBatchLock, [
          String(statementTimeoutMs),
          qualifiedName,
        ]);
        if (lock.rows[0]?.locked !== true) {
          await exec("ROLLBACK");
          break;
        }
        const result = await exec(sql.gcBatch, [now(), gcBatchSize]);
        await exec("COMMIT");
        const count = result.rowCount ?? 0;
        removed += count;
        if (count < gcBatchSize || closed) break;
      }
      return removed;
    } catch (error) {
      // The connection is destroyed, which rolls the open transaction back.
      failure = error;
      throw error;
    } finally {
      release(failure);
    }
  }

  const gc = (): Promise<number> =>
    run("gc", async () => {
      if (closed) return 0;
      await ensureReady();
      // One prune at a time per instance; a concurrent call shares it.
      gcRunning ??= (transactionPooling ? gcOncePerTransaction() : gcOnce()).finally(() => {
        gcRunning = undefined;
      });
      return gcRunning;
    });

  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (gcIntervalMs === false || closed) return;
    const delay = Math.round(gcIntervalMs * (0.75 + Math.random() * 0.5));
    timer = setTimeout(() => {
      // Never rejects: both outcomes are handled right here.
      void gc().then(
        () => schedule(),
        (error: unknown) => {
          onError(toSessionError("gc", error) as SessionError);
          schedule();
        },
      );
    }, delay);
    timer.unref();
  };
  schedule();

  const store: PostgresStore = {
    name: STORE,
    capabilities,
    schema,
    table,
    migrate,

    get: async (key) => {
      assertStorable(STORE, key);
      return run("get", async () => {
        const result = await query<Row>("get", [key, now()]);
        const row = result.rows[0];
        return row === undefined ? null : toRecord(row);
      });
    },

    set: async (key, record, setOptions) => {
      assertStorable(STORE, key, record);
      const ifVersion = setOptions?.ifVersion;
      if (!Number.isSafeInteger(ifVersion) || (ifVersion as number) < 0) {
        throw new TypeError(`${STORE}: set() options.ifVersion must be a non-negative integer`);
      }
      return run("set", async () => {
        const t = now();
        const userId = record.userId ?? null;
        if (ifVersion === 0) {
          if (record.expiresAt <= t) {
            const result = await query<{ free: boolean }>("createExpired", [key, t]);
            return result.rows[0]?.free === true;
          }
          const result = await query("create", [
            key,
            record.payload,
            record.expiresAt,
            record.createdAt,
            record.version,
            userId,
            t,
          ]);
          return result.rowCount === 1;
        }
        if (record.expiresAt <= t) {
          const result = await query("replaceExpired", [key, ifVersion, t]);
          return result.rowCount === 1;
        }
        const result = await query("replace", [
          key,
          record.payload,
          record.expiresAt,
          record.createdAt,
          record.version,
          userId,
          ifVersion,
          t,
        ]);
        return result.rowCount === 1;
      });
    },

    destroy: async (key) => {
      assertStorable(STORE, key);
      return run("destroy", async () => {
        await query("destroy", [key]);
      });
    },

    touch: async (key, expiresAt, touchOptions = {}) => {
      assertStorable(STORE, key);
      if (!Number.isSafeInteger(expiresAt)) {
        throw new TypeError(`${STORE}: touch() expiresAt must be a safe integer (epoch ms)`);
      }
      const ifVersion = touchOptions.ifVersion ?? null;
      if (ifVersion !== null && !Number.isSafeInteger(ifVersion)) {
        throw new TypeError(`${STORE}: touch() options.ifVersion must be an integer`);
      }
      return run("touch", async () => {
        const result = await query("touch", [key, expiresAt, now(), ifVersion]);
        return result.rowCount === 1;
      });
    },

    rename: async (oldKey, newKey, record, renameOptions = {}) => {
      assertStorable(STORE, oldKey);
      assertStorable(STORE, newKey, record);
      const ifVersion = renameOptions.ifVersion ?? null;
      if (ifVersion !== null && !Number.isSafeInteger(ifVersion)) {
        throw new TypeError(`${STORE}: rename() options.ifVersion must be an integer`);
      }
      if (oldKey === newKey) throw new TypeError(`${STORE}: rename() needs two different keys`);
      return run("rename", async () => {
        const t = now();
        if (record.expiresAt <= t) {
          // The moved record is already expired: the move amounts to a delete.
          const result = await query("renameExpired", [oldKey, t, ifVersion]);
          return result.rowCount === 1;
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
          ifVersion,
        ];
        try {
          return (await query("rename", values)).rowCount === 1;
        } catch (error) {
          if ((error as { code?: unknown }).code !== "23505") throw error;
          // The new key is taken. An expired leftover there counts as absent:
          // remove it and try once more; a live one is the caller's error.
          const purged = await query("purgeExpiredKey", [newKey, t]);
          if (purged.rowCount === 1) {
            try {
              return (await query("rename", values)).rowCount === 1;
            } catch (retryError) {
              if ((retryError as { code?: unknown }).code !== "23505") throw retryError;
            }
          }
          throw new TypeError(`${STORE}: rename() the new key is already in use`);
        }
      });
    },

    listByUser: async (userId) => {
      checkUserId(userId);
      // Such an id cannot be stored (assertStorable); sent anyway, the driver
      // would turn a lone surrogate into U+FFFD and could match another user.
      if (!isStorableText(userId)) return [];
      return run("listByUser", async () => {
        const result = await query<Row & { key: string }>("listByUser", [userId, now()]);
        return result.rows.map((row) => ({ key: row.key, record: toRecord(row) }));
      });
    },

    destroyByUser: async (userId, destroyOptions = {}) => {
      checkUserId(userId);
      const exceptKey = destroyOptions.exceptKey ?? null;
      if (exceptKey !== null) assertStorable(STORE, exceptKey);
      if (!isStorableText(userId)) return 0;
      return run("destroyByUser", async () => {
        const result = await query<{ destroyed: string }>("destroyByUser", [
          userId,
          exceptKey,
          now(),
        ]);
        return toSafeInteger(result.rows[0]?.destroyed ?? 0, "count");
      });
    },

    count: async () =>
      run("count", async () => {
        const result = await query<{ live: string }>("count", [now()]);
        return toSafeInteger(result.rows[0]?.live ?? 0, "count");
      }),

    clear: async () =>
      run("clear", async () => {
        await query("clear", []);
      }),

    keys: async (keyOptions = {}) => {
      const cursor = keyOptions.cursor ?? null;
      if (cursor !== null && !isStoreKey(cursor)) {
        throw new TypeError(`${STORE}: keys() cursor must be null or a cursor keys() returned`);
      }
      const limit = keyOptions.limit ?? 500;
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_KEYS_LIMIT) {
        throw new TypeError(
          `${STORE}: keys() limit must be an integer from 1 to ${MAX_KEYS_LIMIT}`,
        );
      }
      return run("keys", async () => {
        // One row more than asked tells whether another page exists.
        const result = await query<{ key: string }>("keys", [cursor ?? "", now(), limit + 1]);
        const keys = result.rows.slice(0, limit).map((row) => row.key);
        const more = result.rows.length > limit;
        return { keys, cursor: more ? (keys[keys.length - 1] ?? null) : null };
      });
    },

    gc,

    close: async () => {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      // Let a running prune finish its batch before the pool goes away.
      await gcRunning?.catch(() => 0);
      if (ownsPool) {
        await run("close", () => pool.end());
      } else if (listensToPool) {
        pool.off("error", onPoolError);
      }
    },
  };
  return store;
}

const URL_OPTIONS = [
  "schema",
  "table",
  "createTableIfMissing",
  "unlogged",
  "statementTimeoutMs",
  "connectTimeoutMs",
  "gcIntervalMs",
  "pooler",
] as const;

function parseUrlOptions(url: string): PostgresStoreUrlOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL itself may hold a password: it is never echoed.
    throw invalidConfig("the connection URL is not a valid URL (its value is not shown)");
  }
  const options: Record<string, unknown> = {};
  for (const name of URL_OPTIONS) {
    const value = parsed.searchParams.get(name);
    parsed.searchParams.delete(name);
    if (value === null) continue;
    if (name === "schema" || name === "table" || name === "pooler") options[name] = value;
    else if (name === "createTableIfMissing" || name === "unlogged") {
      if (value !== "true" && value !== "false")
        throw invalidConfig(`URL parameter ${name} must be true or false`);
      options[name] = value === "true";
    } else if (name === "gcIntervalMs" && value === "false") options[name] = false;
    else {
      if (!/^[0-9]+$/.test(value))
        throw invalidConfig(`URL parameter ${name} must be a positive integer`);
      options[name] = Number(value);
    }
  }
  return { ...options, connectionString: parsed.toString() } as PostgresStoreUrlOptions;
}

/**
 * Registry provider for the Postgres store: opens `postgres://` and
 * `postgresql://` URLs. Store options may be given as query parameters
 * (`schema`, `table`, `createTableIfMissing`, `unlogged`, `statementTimeoutMs`,
 * `connectTimeoutMs`, `gcIntervalMs`, `pooler`); they are removed before the URL reaches pg.
 */
export const postgresProvider: StoreProvider<PostgresStoreOptions> = {
  name: "postgres",
  schemes: ["postgres", "postgresql"],
  create: (options) => createPostgresStore(options),
  fromUrl: (url) => createPostgresStore(parseUrlOptions(url)),
};
