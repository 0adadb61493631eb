import { parsePostgresUrl } from "@sessionkit/store-postgres";
import pg from "pg";
import { toCliError, withTimeout } from "./cli-error.js";
import { redactUrl } from "./url.js";

/** Quotes an identifier the store already validated (lowercase letters, digits, `_`). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Opens the CLI's own PostgreSQL connection (beside the store's pool) for
 * what the store contract does not expose: catalogs, the server clock,
 * expired-row counts. No startup parameters beyond `application_name`, so a
 * transaction-pooling PgBouncer accepts it.
 */
export async function connectPostgres(url: string, timeoutMs: number): Promise<pg.Client> {
  const target = parsePostgresUrl(url);
  const client = new pg.Client({
    connectionString: target.connection.connectionString,
    application_name: "sessionkit-cli",
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on("error", () => {});
  try {
    await withTimeout(client.connect(), timeoutMs + 500, `cannot reach ${redactUrl(url)}`);
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    throw toCliError(error, `cannot reach ${redactUrl(url)}`);
  }
}

/** Number of rows at or past their expiry (not yet pruned by gc), on the application's clock. */
export async function postgresExpiredCount(
  client: pg.Client,
  schema: string,
  table: string,
): Promise<number> {
  const result = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${quoteIdentifier(schema)}.${quoteIdentifier(table)} WHERE expires_at <= $1`,
    [Date.now()],
  );
  return Number(result.rows[0]?.n ?? 0);
}
