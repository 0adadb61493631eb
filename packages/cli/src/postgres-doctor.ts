import {
  CURRENT_SCHEMA_VERSION,
  parsePostgresUrl,
  VERSION_TABLE,
} from "@sessionkit/store-postgres";
import type pg from "pg";
import { type Check, check, clockCheck, schemaCheck } from "./check.js";
import { connectPostgres, quoteIdentifier } from "./postgres-target.js";

/** Where the store keeps its sessions. */
export interface PostgresTable {
  readonly schema: string;
  readonly table: string;
}

async function schemaChecks(client: pg.Client, { schema, table }: PostgresTable): Promise<Check[]> {
  const qualified = `${schema}.${table}`;
  const checks: Check[] = [];
  const found = await client.query<{ versions: string | null; sessions: string | null }>(
    "SELECT to_regclass($1)::text AS versions, to_regclass($2)::text AS sessions",
    [
      `${quoteIdentifier(schema)}.${quoteIdentifier(VERSION_TABLE)}`,
      `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`,
    ],
  );
  const row = found.rows[0];
  let version = 0;
  if (row?.versions != null) {
    const result = await client.query<{ version: number }>(
      `SELECT version FROM ${quoteIdentifier(schema)}.${quoteIdentifier(VERSION_TABLE)} WHERE table_name = $1`,
      [table],
    );
    version = result.rows[0]?.version ?? 0;
  }
  checks.push(schemaCheck(qualified, version, CURRENT_SCHEMA_VERSION, "error"));
  if (row?.sessions == null) return checks;

  const persistence = await client.query<{ relpersistence: string }>(
    "SELECT relpersistence FROM pg_class WHERE oid = $1::regclass",
    [row.sessions],
  );
  if (persistence.rows[0]?.relpersistence === "u") {
    checks.push(
      check(
        "unlogged",
        "warning",
        `table ${qualified} is UNLOGGED: PostgreSQL empties it after a crash and does not replicate it`,
        `ALTER TABLE ${qualified} SET LOGGED, unless that loss is acceptable`,
      ),
    );
  }
  // The first key column of every valid index on the table.
  const indexes = await client.query<{ name: string; column: string; primary: boolean }>(
    `SELECT c.relname AS name, a.attname AS column, i.indisprimary AS primary
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indrelid = $1::regclass AND i.indisvalid`,
    [row.sessions],
  );
  const byColumn = new Map(indexes.rows.map((index) => [index.column, index.name]));
  const missing: string[] = [];
  if (!indexes.rows.some((index) => index.column === "key" && index.primary)) {
    missing.push("the primary key on key");
  }
  if (!byColumn.has("expires_at")) missing.push("the index on expires_at (gc, count)");
  if (!byColumn.has("user_id")) missing.push("the index on user_id (per-user listing and revoke)");
  checks.push(
    missing.length === 0
      ? check(
          "indexes",
          "ok",
          `indexes present: ${[...new Set(indexes.rows.map((index) => index.name))].sort().join(", ")}`,
        )
      : check(
          "indexes",
          "error",
          `table ${qualified} lacks ${missing.join(", ")}: those operations scan the whole table`,
          "recreate the table with sessionkit migrate, or create the index by hand",
        ),
  );
  return checks;
}

/**
 * Looks for a pooler in transaction (or statement) mode: two client
 * connections open at once always have distinct backends, unless a pooler
 * hands both the same server connection between transactions. Finding the
 * same backend pid is proof; distinct pids prove nothing (a busy pool may
 * hand out other connections), so the check runs a few rounds.
 */
async function sharesBackends(first: pg.Client, url: string, timeoutMs: number): Promise<boolean> {
  const second = await connectPostgres(url, timeoutMs);
  try {
    for (let round = 0; round < 5; round++) {
      const a = await first.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      const b = await second.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      if (a.rows[0]?.pid === b.rows[0]?.pid) return true;
    }
    return false;
  } finally {
    await second.end().catch(() => {});
  }
}

async function poolerChecks(client: pg.Client, url: string, timeoutMs: number): Promise<Check[]> {
  const target = parsePostgresUrl(url);
  const checks: Check[] = [];
  const declared = target.options.pooler === "transaction";
  if (await sharesBackends(client, url, timeoutMs)) {
    checks.push(
      declared
        ? check(
            "pooler",
            "ok",
            "a pooler in transaction mode is in between, and the URL says pooler=transaction",
          )
        : check(
            "pooler",
            "error",
            "a pooler in transaction mode (such as PgBouncer pool_mode = transaction) is in between: two connections shared one server backend. The store's named prepared statements and gc's session-level lock break there",
            "add pooler=transaction to the store URL (and set statement_timeout on the role), use session pooling, or connect to PostgreSQL directly",
          ),
    );
    return checks;
  }
  const server = await client.query<{ port: number | null }>("SELECT inet_server_port() AS port");
  const serverPort = server.rows[0]?.port ?? null;
  if (serverPort !== null && serverPort !== target.connection.port) {
    checks.push(
      check(
        "pooler",
        "info",
        `connected to port ${target.connection.port} but PostgreSQL listens on ${serverPort}: a proxy, pooler or port mapping is in between; no transaction pooling was observed`,
      ),
    );
  } else {
    checks.push(check("pooler", "ok", "no transaction-pooling pooler observed"));
  }
  if (declared) {
    checks.push(
      check(
        "pooler",
        "info",
        "the URL says pooler=transaction but no transaction pooling was observed: the store runs in its slower pooler-safe mode",
      ),
    );
  }
  return checks;
}

/**
 * `doctor` for PostgreSQL: server version, schema version and pending
 * migration, indexes, a transaction-pooling pooler, clock skew.
 */
export async function postgresDoctor(
  url: string,
  where: PostgresTable,
  timeoutMs: number,
): Promise<Check[]> {
  const client = await connectPostgres(url, timeoutMs);
  try {
    const checks: Check[] = [];
    const version = await client.query<{ server_version: string }>("SHOW server_version");
    checks.push(
      check("version", "ok", `PostgreSQL ${version.rows[0]?.server_version ?? "unknown"}`),
    );
    checks.push(...(await schemaChecks(client, where)));
    checks.push(...(await poolerChecks(client, url, timeoutMs)));
    const sentAt = Date.now();
    const now = await client.query<{ ms: number }>(
      "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms",
    );
    const receivedAt = Date.now();
    checks.push(clockCheck(now.rows[0]?.ms ?? 0, sentAt, receivedAt, "PostgreSQL"));
    return checks;
  } finally {
    await client.end().catch(() => {});
  }
}
