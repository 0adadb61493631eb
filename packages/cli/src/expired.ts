import type { SessionStore } from "@sessionkit/core";
import type { PostgresStore } from "@sessionkit/store-postgres";
import type { SqliteStore } from "@sessionkit/store-sqlite";
import { connectPostgres, postgresExpiredCount, quoteIdentifier } from "./postgres-target.js";
import { schemeOf } from "./url.js";

/** Counts rows past their expiry that gc has not removed yet. */
export interface ExpiredCounter {
  count(): Promise<number>;
  close(): Promise<void>;
}

/**
 * An expired-row counter for stores that declare `gc` and keep rows in SQL
 * (PostgreSQL, SQLite); `undefined` for the others (Redis expires keys
 * itself; the memory store of a CLI process is empty).
 */
export async function expiredCounter(
  url: string,
  store: SessionStore,
  timeoutMs: number,
): Promise<ExpiredCounter | undefined> {
  if (!store.capabilities.gc) return undefined;
  const scheme = schemeOf(url);
  if (scheme === "postgres" || scheme === "postgresql") {
    const { schema, table } = store as PostgresStore;
    const client = await connectPostgres(url, timeoutMs);
    return {
      count: () => postgresExpiredCount(client, schema, table),
      close: () => client.end().catch(() => {}),
    };
  }
  if (scheme === "sqlite") {
    const { database, table } = store as SqliteStore;
    const statement = database
      .prepare(`SELECT count(*) FROM ${quoteIdentifier(table)} WHERE expires_at <= ?`)
      .pluck();
    return {
      count: async () => Number(statement.get(Date.now())),
      close: async () => {},
    };
  }
  return undefined;
}
