import {
  gcIntervalOption,
  migrateOption,
  readUrlParameters,
  storeConfigError,
  wholeNumberOption,
} from "@sessionkit/core/store";
import { type SqliteStoreCommonOptions, synchronousOption, tableOption } from "./options.js";

/** The store options a `sqlite:` URL may set as query parameters. */
export type SqliteUrlOptions = Pick<
  SqliteStoreCommonOptions,
  "table" | "operationTimeoutMs" | "gcIntervalMs" | "gcBatchSize" | "migrate" | "synchronous"
>;

/** What a `sqlite:` URL says. */
export interface SqliteUrl {
  /** The database file exactly as written (relative to the working directory), or `":memory:"`. */
  readonly path: string;
  /** The store options its query parameters set, checked; absent ones are not set. */
  readonly options: SqliteUrlOptions;
}

const PARAMETERS = {
  table: "string",
  operationTimeoutMs: "integer",
  gcIntervalMs: "duration",
  gcBatchSize: "integer",
  migrate: "string",
  synchronous: "string",
} as const;

/** Each parameter's check, the same as the option's. */
const CHECKS: Record<keyof typeof PARAMETERS, (value: unknown) => unknown> = {
  table: tableOption,
  operationTimeoutMs: (value) => wholeNumberOption("sqlite", "operationTimeoutMs", value),
  gcIntervalMs: (value) => gcIntervalOption("sqlite", value, false),
  gcBatchSize: (value) => wholeNumberOption("sqlite", "gcBatchSize", value),
  migrate: (value) => migrateOption("sqlite", value),
  synchronous: synchronousOption,
};

/**
 * Parses a SQLite store URL: `sqlite:<path>` or `sqlite::memory:`, the path
 * taken literally (no percent-decoding; `sqlite:///abs/path.db` is
 * `/abs/path.db`), with optional query parameters `table`,
 * `operationTimeoutMs`, `gcIntervalMs` (`false` allowed), `gcBatchSize`,
 * `migrate` and `synchronous`. A URL naming no file, or an unknown, repeated
 * or malformed parameter, throws `INVALID_CONFIG`.
 *
 * @example
 * ```ts
 * import { parseSqliteUrl } from "@sessionkit/store-sqlite";
 *
 * const { path, options } = parseSqliteUrl("sqlite:./sessions.db?table=web_sessions");
 * // path "./sessions.db", options { table: "web_sessions" }
 * ```
 */
export function parseSqliteUrl(url: string): SqliteUrl {
  if (typeof url !== "string" || !/^sqlite:/i.test(url)) {
    throw storeConfigError("sqlite", 'the URL must start with "sqlite:"');
  }
  let path = url.slice("sqlite:".length);
  const question = path.indexOf("?");
  if (question !== -1) path = path.slice(0, question);
  if (path.startsWith("//")) path = path.slice(2);
  if (path === "") {
    throw storeConfigError(
      "sqlite",
      'the URL names no file; use "sqlite:./sessions.db" or "sqlite::memory:"',
    );
  }
  const given = readUrlParameters("sqlite", url, PARAMETERS);
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    options[name] = CHECKS[name as keyof typeof PARAMETERS](value);
  }
  return { path, options: options as SqliteUrlOptions };
}
