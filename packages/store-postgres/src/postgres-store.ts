import {
  defineStore,
  ErrorCode,
  type OptionalStoreMethod,
  SessionError,
  type StoreWith,
} from "@sessionkit/core/store";
import { createPostgresBackend } from "./backend.js";
import { classifyPostgresError, toStoreError } from "./classify.js";
import type { MigrationResult } from "./migrate.js";
import { type PostgresStoreOptions, resolvePostgresOptions, STORE } from "./options.js";
import { openPool } from "./pool.js";
import { resolveConnection } from "./url.js";

/** A `SessionStore` backed by one PostgreSQL table, with every capability. */
export interface PostgresStore extends StoreWith<OptionalStoreMethod> {
  /** The schema of the session table. */
  readonly schema: string;
  /** The session table's name. */
  readonly table: string;
  /**
   * Creates or upgrades the table, its indexes and the version table, in one
   * transaction under a transaction-scoped advisory lock, so many instances
   * may call it at once. A no-op when the table is current; a table at a newer
   * schema version than this package knows is `INVALID_CONFIG`.
   */
  migrate(): Promise<MigrationResult>;
}

/**
 * Creates a session store on a PostgreSQL table. Pass a `url` (the store then
 * owns its pool, with `statement_timeout` and a connect timeout set, and ends
 * it on `close()`) or a `pg.Pool` you made (`{ pool }`, left open). With the
 * default `migrate: "auto"` the first operation creates or upgrades the table
 * when needed; `"verify"` only checks it, for deployments that run
 * `migrate()` at deploy time.
 *
 * Option errors (a bad identifier, a non-positive number, an unknown option,
 * neither or both of `url` and `pool`) throw a `SessionError` with code
 * `INVALID_CONFIG`; bad arguments to an operation reject with a `TypeError`.
 *
 * @example
 * ```ts
 * import { createSessionManager } from "@sessionkit/core";
 * import { createPostgresStore } from "@sessionkit/store-postgres";
 *
 * const store = createPostgresStore({ url: process.env.DATABASE_URL ?? "" });
 * const sessions = createSessionManager({ store, secrets: [process.env.SESSION_SECRET ?? ""] });
 * ```
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const connection = resolveConnection(options);
  const resolved = resolvePostgresOptions(connection.options, connection.source);
  const storePool = openPool(resolved, resolved.onError);
  const { backend, migrate } = createPostgresBackend(resolved, storePool);
  const store = defineStore({
    name: STORE,
    backend,
    classify: classifyPostgresError,
    operationTimeoutMs: resolved.operationTimeoutMs,
    gcIntervalMs: resolved.gcIntervalMs,
    onError: resolved.onError,
  });
  let closed = false;
  return Object.freeze({
    ...(store as PostgresStore),
    schema: resolved.schema,
    table: resolved.table,
    async migrate() {
      if (closed) {
        throw new SessionError(ErrorCode.STORE_UNAVAILABLE, `${STORE}: the store is closed`, {
          store: STORE,
          operation: "migrate",
        });
      }
      try {
        return await migrate();
      } catch (error) {
        throw toStoreError(error, "migrate");
      }
    },
    close() {
      closed = true;
      return store.close?.() ?? Promise.resolve();
    },
  });
}
