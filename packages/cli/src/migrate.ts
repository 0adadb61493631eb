import { existsSync } from "node:fs";
import {
  createPostgresStore,
  type PostgresStore,
  parsePostgresUrl,
} from "@sessionkit/store-postgres";
import {
  createSqliteStore,
  type SqliteDatabase,
  type SqliteStore,
  sqliteSchemaVersion,
} from "@sessionkit/store-sqlite";
import Database from "better-sqlite3";
import pg from "pg";
import { ExitCode, toCliError } from "./cli-error.js";
import type { CommandContext } from "./context.js";
import { json, line } from "./io.js";
import { closeQuietly, openStore } from "./open.js";
import { parseSqliteUrl, redactUrl, schemeOf } from "./url.js";

/** The JSON document of `sessionkit migrate --json`. */
export interface MigrateReport {
  /** The store URL, credentials redacted. */
  readonly store: string;
  /** False for stores without a schema (Redis, memory): nothing was done. */
  readonly supported: boolean;
  /** True with `--dry-run`: nothing was changed. */
  readonly dryRun: boolean;
  /** Schema version before. */
  readonly fromVersion: number | null;
  /** Schema version after (with `--dry-run`: after a real run). */
  readonly toVersion: number | null;
  /** With `--dry-run`: the statements a real run executes, in order (empty when up to date). */
  readonly statements: readonly string[];
}

/** Renders a value as an SQL literal, for printing a statement with its parameters in place. */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  return `'${String(value).replaceAll("'", "''")}'`;
}

/** Puts `$n` (PostgreSQL) or `?` (SQLite) parameters in place as literals. */
export function inlineParameters(text: string, values: readonly unknown[]): string {
  let position = 0;
  return text
    .replace(/\$(\d+)/g, (_, n: string) => sqlLiteral(values[Number(n) - 1]))
    .replace(/\?/g, () => sqlLiteral(values[position++]));
}

/** Statements that only read or frame the migration: not printed in a dry run. */
const FRAMING = /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET LOCAL|SELECT)\b/i;

/**
 * A dry run of the Postgres store's own `migrate()`: every statement runs,
 * inside its transaction, against the real database, and the final COMMIT
 * becomes a ROLLBACK. The printed SQL is exactly what a real run executes.
 */
async function postgresDryRun(
  url: string,
  store: PostgresStore,
  timeoutMs: number,
): Promise<{ fromVersion: number; toVersion: number; statements: string[] }> {
  const target = parsePostgresUrl(url);
  const statements: string[] = [];
  const pool = new pg.Pool({
    connectionString: target.connection.connectionString,
    application_name: "sessionkit-cli",
    connectionTimeoutMillis: timeoutMs,
    max: 1,
  });
  pool.on("error", () => {});
  const connect = pool.connect.bind(pool);
  Object.assign(pool, {
    async connect() {
      const client = await connect();
      const query = client.query.bind(client) as (config: pg.QueryConfig) => Promise<unknown>;
      Object.assign(client, {
        query(config: pg.QueryConfig) {
          const text = config.text.trim();
          if (/^COMMIT$/i.test(text)) return query({ ...config, text: "ROLLBACK" });
          if (!FRAMING.test(text)) statements.push(inlineParameters(text, config.values ?? []));
          return query(config);
        },
      });
      return client;
    },
  });
  const scratch = createPostgresStore({
    pool,
    schema: store.schema,
    table: store.table,
    unlogged: target.options.unlogged ?? false,
    gcIntervalMs: false,
    // Migrated by the explicit call below, inside the rolled-back transaction.
    migrate: "off",
  });
  try {
    const result = await scratch.migrate();
    // With nothing to do, only the idempotent bookkeeping table statement ran.
    return { ...result, statements: result.fromVersion === result.toVersion ? [] : statements };
  } finally {
    await scratch.close();
    await pool.end();
  }
}

/**
 * A dry run of the SQLite store's own `migrate()`, on an in-memory copy of the
 * file (or an empty in-memory database when the file does not exist yet): the
 * file itself is only read, so nothing about it changes, not even its journal
 * mode.
 */
/** The bytes of a database file, read through a read-only connection. */
function copyOf(path: string): Buffer {
  const source = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return source.serialize();
  } finally {
    source.close();
  }
}

async function sqliteDryRun(
  path: string,
  table: string,
): Promise<{
  fromVersion: number;
  toVersion: number;
  statements: string[];
}> {
  const file = path !== ":memory:" && existsSync(path) ? path : undefined;
  const db = new Database(file === undefined ? ":memory:" : copyOf(file));
  const statements: string[] = [];
  try {
    const fromVersion = sqliteSchemaVersion(db, table);
    const recording = new Proxy(db, {
      get(target, property) {
        if (property === "exec") {
          return (text: string) => {
            statements.push(text.trim());
            return target.exec(text);
          };
        }
        if (property === "prepare") {
          return (text: string) => {
            const statement = target.prepare(text);
            if (FRAMING.test(text)) return statement;
            return new Proxy(statement, {
              get(inner, name) {
                if (name === "run") {
                  return (...values: unknown[]) => {
                    statements.push(inlineParameters(text.trim(), values));
                    return inner.run(...values);
                  };
                }
                const value = Reflect.get(inner, name, inner);
                return typeof value === "function" ? value.bind(inner) : value;
              },
            });
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as SqliteDatabase;
    // The store leaves a database it was given open: closed below.
    const scratch = createSqliteStore({
      database: recording,
      table,
      migrate: "off",
      gcIntervalMs: false,
    });
    try {
      const { toVersion } = await scratch.migrate();
      return { fromVersion, toVersion, statements };
    } finally {
      await scratch.close();
    }
  } finally {
    db.close();
  }
}

/** `sessionkit migrate [--dry-run]`: creates or upgrades the SQL stores' schema. */
export async function migrate(context: CommandContext, dryRun: boolean): Promise<number> {
  const { url, timeoutMs, io } = context;
  const shown = redactUrl(url);
  const scheme = schemeOf(url);
  let report: MigrateReport;
  if (scheme === "sqlite") {
    const { path, table } = parseSqliteUrl(url);
    if (dryRun) {
      try {
        report = { store: shown, supported: true, dryRun, ...(await sqliteDryRun(path, table)) };
      } catch (error) {
        throw toCliError(error, `cannot migrate ${shown}`);
      }
    } else {
      const before =
        path !== ":memory:" && existsSync(path)
          ? (() => {
              const db = new Database(path, { readonly: true, fileMustExist: true });
              try {
                return sqliteSchemaVersion(db, table);
              } finally {
                db.close();
              }
            })()
          : 0;
      // Opening the store creates the file (mode 0600); migrate() brings its schema up.
      const store = (await openStore(url, timeoutMs, { create: true })) as SqliteStore;
      try {
        const { toVersion } = await store.migrate();
        report = {
          store: shown,
          supported: true,
          dryRun,
          fromVersion: before,
          toVersion,
          statements: [],
        };
      } catch (error) {
        throw toCliError(error, `cannot migrate ${shown}`);
      } finally {
        await closeQuietly(store);
      }
    }
  } else if (scheme === "postgres" || scheme === "postgresql") {
    const store = (await openStore(url, timeoutMs)) as PostgresStore;
    try {
      const result = dryRun
        ? await postgresDryRun(url, store, timeoutMs)
        : { ...(await store.migrate()), statements: [] };
      report = {
        store: shown,
        supported: true,
        dryRun,
        fromVersion: result.fromVersion,
        toVersion: result.toVersion,
        statements: result.statements,
      };
    } catch (error) {
      throw toCliError(error, `cannot migrate ${shown}`);
    } finally {
      await closeQuietly(store);
    }
  } else {
    const store = await openStore(url, timeoutMs);
    await closeQuietly(store);
    report = {
      store: shown,
      supported: false,
      dryRun,
      fromVersion: null,
      toVersion: null,
      statements: [],
    };
  }

  if (context.json) {
    json(io.stdout, report);
    return ExitCode.OK;
  }
  if (!report.supported) {
    line(io.stdout, `the ${scheme} store has no schema: nothing to migrate`);
    return ExitCode.OK;
  }
  const upToDate = report.fromVersion === report.toVersion;
  if (dryRun) {
    line(
      io.stdout,
      upToDate
        ? `-- ${shown}: up to date at schema version ${report.toVersion}; nothing to run`
        : `-- ${shown}: schema version ${report.fromVersion} -> ${report.toVersion} (dry run: nothing was changed)`,
    );
    for (const statement of report.statements) {
      // SQLite migrations are scripts of several statements ending in ";".
      line(io.stdout, `${statement.replace(/;\s*$/, "")};`);
    }
  } else {
    line(
      io.stdout,
      upToDate
        ? `${shown}: already at schema version ${report.toVersion}`
        : `${shown}: migrated from schema version ${report.fromVersion} to ${report.toVersion}`,
    );
  }
  return ExitCode.OK;
}
