import type { StoreErrorHandler } from "@sessionkit/core/store";
import pg from "pg";
import { toStoreError } from "./classify.js";
import type { ResolvedPostgresOptions } from "./options.js";

/** The store's pool: its own, or the user's. */
export interface StorePool {
  readonly pool: pg.Pool;
  /** Client-side read timeout of each query, in ms: the server's own timeout fires first. */
  readonly queryTimeoutMs: number;
  /** Ends an own pool; detaches from a user's pool (which stays open). */
  release(): Promise<void>;
}

/**
 * Opens the store's pool, or adopts the user's. An idle client losing its
 * connection emits "error" on the pool; without a listener Node would crash
 * the process, so the store listens and reports it to `onError`. A user's pool
 * that already has a listener is left to it.
 */
export function openPool(resolved: ResolvedPostgresOptions, onError: StoreErrorHandler): StorePool {
  const { source, operationTimeoutMs } = resolved;
  // The server's statement_timeout fires first and leaves the connection
  // usable; this client-side bound only catches a server that stopped
  // answering altogether (the timed-out connection is then discarded).
  const queryTimeoutMs = operationTimeoutMs + 500;
  const owned = !("pool" in source);
  const pool =
    "pool" in source
      ? source.pool
      : new pg.Pool({
          application_name: "sessionkit",
          keepAlive: true,
          ...source.poolConfig,
          connectionString: source.connectionString,
          connectionTimeoutMillis: operationTimeoutMs,
          // A startup parameter, i.e. per server connection: PgBouncer refuses
          // it in transaction pooling (and could not keep it per client anyway).
          ...(resolved.pooler === "transaction" ? {} : { statement_timeout: operationTimeoutMs }),
          query_timeout: queryTimeoutMs,
        });
  const onPoolError = (error: Error): void => {
    onError(toStoreError(error, "idle-connection"), { operation: "idle-connection" });
  };
  const listens = owned || pool.listenerCount("error") === 0;
  if (listens) pool.on("error", onPoolError);
  return {
    pool,
    queryTimeoutMs,
    async release() {
      if (owned) await pool.end();
      else if (listens) pool.off("error", onPoolError);
    },
  };
}

/**
 * Runs a multi-statement job on one checked-out client, then returns the
 * client to the pool; after a failure it is destroyed, never reused, which
 * also rolls back its transaction and frees its session-level locks.
 *
 * pg-pool drops its own "error" listener while a client is checked out; a
 * connection lost between two statements would then emit an unhandled
 * "error" and crash the process. The next statement fails instead
 * (`STORE_UNAVAILABLE`).
 */
export async function withClient<T>(
  pool: pg.Pool,
  job: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  const ignore = (): void => {};
  client.on("error", ignore);
  let failure: Error | undefined;
  try {
    return await job(client);
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.off("error", ignore);
    client.release(failure);
  }
}
