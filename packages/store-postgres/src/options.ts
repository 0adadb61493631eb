import {
  type GcStoreOptions,
  gcIntervalOption,
  type MigrateMode,
  migrateOption,
  type ResolvedStoreOptions,
  resolveStoreOptions,
  storeConfigError,
  wholeNumberOption,
} from "@sessionkit/core/store";
import type pg from "pg";
import { SCHEMA_NAME, TABLE_NAME } from "./schema.js";

/** The store's name, in errors and events. */
export const STORE = "postgres";

/**
 * The connection pooler in front of PostgreSQL, if any (option `pooler`):
 * `"none"` for a direct connection or session pooling, `"transaction"` for
 * transaction pooling (PgBouncer `pool_mode = transaction`).
 */
export type PostgresPooler = "none" | "transaction";

/** Options of both ways of connecting (`url` or `pool`). */
export interface PostgresStoreCommonOptions extends GcStoreOptions {
  /**
   * Schema holding the session table. Lowercase letters, digits and `_`, at
   * most 63 characters; always quoted in SQL.
   * @default "public"
   */
  readonly schema?: string | undefined;
  /**
   * Session table name. Lowercase letters, digits and `_`, at most 48
   * characters (room for index-name suffixes); always quoted in SQL.
   * @default "sessionkit_sessions"
   */
  readonly table?: string | undefined;
  /**
   * What the store does with its schema before the first operation:
   * `"auto"` reads the schema version and runs {@link PostgresStore.migrate}
   * when the table is missing or older (a role without DDL rights works once
   * the table is current); `"verify"` only reads it and fails with
   * `INVALID_CONFIG` unless it is current (migrate at deploy time); `"off"`
   * checks nothing.
   * @default "auto"
   */
  readonly migrate?: MigrateMode | undefined;
  /**
   * Create the table `UNLOGGED`: faster writes, but PostgreSQL empties it after
   * a crash and it is not replicated. Only applies when the table is created.
   * @default false
   */
  readonly unlogged?: boolean | undefined;
  /**
   * Longest one store call may take, in ms, before it rejects with
   * `STORE_TIMEOUT`. Also the server-side `statement_timeout` of the pool
   * the store creates (not with `pooler: "transaction"`, and not on a pool
   * you pass in), the client-side read timeout of every query (this + 500 ms,
   * which discards a connection whose server stopped answering) and the
   * connect timeout of the store's own pool.
   * @default 2000
   */
  readonly operationTimeoutMs?: number | undefined;
  /**
   * How often expired rows are pruned, in ms, on a jittered timer that never
   * keeps the process alive; `false` for none (call `gc()` yourself, or run
   * `sessionkit gc` from cron).
   * @default 300000
   */
  readonly gcIntervalMs?: number | false | undefined;
  /**
   * Most rows one prune statement deletes, in rows.
   * @default 1000
   */
  readonly gcBatchSize?: number | undefined;
  /**
   * The connection pooler between the store and PostgreSQL. `"none"` (a direct
   * connection, or PgBouncer in session pooling mode) runs every statement as
   * a named prepared statement and gc under one session-level advisory lock.
   * `"transaction"` is for a pooler in transaction pooling mode (PgBouncer's
   * `pool_mode = transaction`), where consecutive statements of one client
   * may run on different server connections: unnamed statements, gc's lock
   * taken per batch inside that batch's transaction, and no session-level
   * parameter sent at connect (set `statement_timeout` on the database role).
   * @default "none"
   */
  readonly pooler?: PostgresPooler | undefined;
}

/** `pg.Pool` settings for the pool the store creates; the store sets the timeouts itself. */
export type PostgresPoolConfig = Omit<
  pg.PoolConfig,
  "connectionString" | "connectionTimeoutMillis" | "statement_timeout" | "query_timeout"
>;

/** Use a `pg.Pool` you created; `close()` leaves it open. */
export interface PostgresStorePoolOptions extends PostgresStoreCommonOptions {
  /**
   * Your pool. Give it a `statement_timeout` and `connectionTimeoutMillis` of
   * your own (not `statement_timeout` behind a transaction-pooling PgBouncer).
   */
  readonly pool: pg.Pool;
  readonly url?: never;
  readonly poolConfig?: never;
}

/** Let the store create (and on `close()` end) its own pool. */
export interface PostgresStoreUrlOptions extends PostgresStoreCommonOptions {
  /**
   * A `postgres://` or `postgresql://` URL; store options may be given as
   * query parameters (see {@link parsePostgresUrl}). Never copied into an
   * error message.
   */
  readonly url: string;
  readonly pool?: never;
  /**
   * Further `pg.Pool` settings (`max`, `ssl`, `application_name`, …).
   * @default {}
   */
  readonly poolConfig?: PostgresPoolConfig | undefined;
}

/** Options of {@link createPostgresStore}: `{ url }` or `{ pool }`. */
export type PostgresStoreOptions = PostgresStorePoolOptions | PostgresStoreUrlOptions;

/** Where the store's connections come from, resolved. */
export type PostgresConnectionSource =
  | { readonly pool: pg.Pool }
  | { readonly connectionString: string; readonly poolConfig: PostgresPoolConfig };

/** {@link PostgresStoreOptions}, checked and filled in. */
export interface ResolvedPostgresOptions extends ResolvedStoreOptions {
  readonly source: PostgresConnectionSource;
  readonly schema: string;
  readonly table: string;
  readonly migrate: MigrateMode;
  readonly unlogged: boolean;
  readonly gcIntervalMs: number | false;
  readonly gcBatchSize: number;
  readonly pooler: PostgresPooler;
}

/** The value of `pooler`. */
export function poolerOption(value: unknown): PostgresPooler {
  if (value === undefined) return "none";
  if (value === "none" || value === "transaction") return value;
  throw storeConfigError(STORE, 'pooler must be "none" or "transaction"');
}

function identifierOption(name: string, value: unknown, pattern: RegExp, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !pattern.test(value)) {
    throw storeConfigError(STORE, `${name} must match ${pattern}`);
  }
  return value;
}

function booleanOption(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw storeConfigError(STORE, `${name} must be true or false`);
  return value;
}

/**
 * Checks every option but the connection (see `resolveConnection`):
 * `INVALID_CONFIG` for anything wrong.
 */
export function resolvePostgresOptions(
  options: PostgresStoreCommonOptions,
  source: PostgresConnectionSource,
): ResolvedPostgresOptions {
  return {
    ...resolveStoreOptions(STORE, options, { operationTimeoutMs: 2_000 }),
    source,
    schema: identifierOption("schema", options.schema, SCHEMA_NAME, "public"),
    table: identifierOption("table", options.table, TABLE_NAME, "sessionkit_sessions"),
    migrate: migrateOption(STORE, options.migrate),
    unlogged: booleanOption("unlogged", options.unlogged),
    gcIntervalMs: gcIntervalOption(STORE, options.gcIntervalMs, 300_000),
    gcBatchSize: wholeNumberOption(STORE, "gcBatchSize", options.gcBatchSize ?? 1_000),
    pooler: poolerOption(options.pooler),
  };
}
