import {
  checkOptionNames,
  mergeUrlOptions,
  migrateOption,
  readUrlParameters,
  storeConfigError,
  type UrlParameterKind,
} from "@sessionkit/core/store";
import {
  type PostgresConnectionSource,
  type PostgresStoreCommonOptions,
  type PostgresStoreOptions,
  poolerOption,
  STORE,
} from "./options.js";

/** The store options a `postgres://` URL may set, as query parameters. */
export type PostgresUrlOptions = Pick<
  PostgresStoreCommonOptions,
  | "schema"
  | "table"
  | "migrate"
  | "unlogged"
  | "operationTimeoutMs"
  | "gcIntervalMs"
  | "gcBatchSize"
  | "pooler"
>;

/** Where a `postgres://` URL points, for pg. */
export interface PostgresConnection {
  /**
   * The URL without the store's parameters, pg's own (such as `sslmode`)
   * kept: what pg's `connectionString` takes. It holds the password, if any:
   * never print it.
   */
  readonly connectionString: string;
  /** The host (the `host` query parameter when given, such as a socket directory). */
  readonly host: string;
  /** The port (the `port` query parameter when given, else 5432 when the URL names none). */
  readonly port: number;
  /** The database, or `undefined` when the URL names none (pg then uses the user's name). */
  readonly database: string | undefined;
  /** The user, or `undefined` when the URL names none. */
  readonly user: string | undefined;
}

/** What {@link parsePostgresUrl} reads from a store URL. */
export interface ParsedPostgresUrl {
  /** The connection, for pg. */
  readonly connection: PostgresConnection;
  /** The store options the URL's query parameters set (only those present). */
  readonly options: PostgresUrlOptions;
}

/** The store's own query parameters: they never reach pg. */
const STORE_PARAMETERS: Readonly<Record<keyof PostgresUrlOptions, UrlParameterKind>> = {
  schema: "string",
  table: "string",
  migrate: "string",
  unlogged: "boolean",
  operationTimeoutMs: "integer",
  gcIntervalMs: "duration",
  gcBatchSize: "integer",
  pooler: "string",
};

/**
 * pg's own connection parameters, passed through to it unchanged. Anything
 * else is refused rather than silently ignored; timeouts come from
 * `operationTimeoutMs`, so pg's `statement_timeout`, `query_timeout` and
 * `connect_timeout` parameters are refused too.
 */
const PG_PARAMETERS = [
  "host",
  "port",
  "user",
  "password",
  "options",
  "application_name",
  "fallback_application_name",
  "client_encoding",
  "ssl",
  "sslmode",
  "sslcert",
  "sslkey",
  "sslrootcert",
  "sslnegotiation",
  "uselibpqcompat",
  "lock_timeout",
  "idle_in_transaction_session_timeout",
] as const;

const KNOWN: Readonly<Record<string, UrlParameterKind>> = {
  ...STORE_PARAMETERS,
  ...Object.fromEntries(PG_PARAMETERS.map((name) => [name, "string"])),
};

const SCHEME = /^postgres(?:ql)?:\/\//i;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Parses a store URL, `postgres://user:password@host:port/database?…` (or
 * `postgresql://`), into pg's connection and the store options it sets.
 * Query parameters are either the store's (`schema`, `table`, `migrate`,
 * `unlogged`, `operationTimeoutMs`, `gcIntervalMs` (a number or `false`),
 * `gcBatchSize`, `pooler`), removed from the connection string, or one of
 * pg's own connection parameters (`sslmode`, `application_name`, `options`, …),
 * kept. An unknown or repeated parameter, a malformed value or a malformed
 * URL is `INVALID_CONFIG`; the message never repeats the URL.
 *
 * @example
 * ```ts
 * const { connection, options } = parsePostgresUrl(
 *   "postgres://app@db:5432/app?sslmode=verify-full&table=sessions&pooler=transaction",
 * );
 * // connection.connectionString: "postgres://app@db:5432/app?sslmode=verify-full"
 * // options: { table: "sessions", pooler: "transaction" }
 * ```
 */
export function parsePostgresUrl(url: string): ParsedPostgresUrl {
  if (typeof url !== "string" || !SCHEME.test(url)) {
    throw storeConfigError(STORE, "url must be a postgres:// or postgresql:// URL");
  }
  let parsed: URL;
  try {
    // `user@/db?host=/socket` has no host in the authority, as pg allows.
    parsed = new URL(url.replace(/^([a-z]+:\/\/[^/?#]*@)\//i, "$1localhost/"));
  } catch {
    // The URL may hold a password: it is never echoed.
    throw storeConfigError(STORE, "url is not a valid URL (its value is not shown)");
  }
  const parameters = readUrlParameters(STORE, url, KNOWN);
  const options: Record<string, unknown> = {};
  const forPg = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (Object.hasOwn(STORE_PARAMETERS, name)) options[name] = value;
    else forPg.append(name, String(value));
  }
  if (options.migrate !== undefined) options.migrate = migrateOption(STORE, options.migrate);
  if (options.pooler !== undefined) options.pooler = poolerOption(options.pooler);
  const base = url.replace(/[?#].*$/s, "");
  const query = forPg.toString();
  const host = parameters.host ?? decoded(parsed.hostname).replace(/^\[(.*)\]$/, "$1");
  const port = parameters.port ?? (parsed.port === "" ? "5432" : parsed.port);
  if (!/^\d{1,5}$/.test(String(port))) throw storeConfigError(STORE, "the URL's port is invalid");
  const database = decoded(parsed.pathname.slice(1));
  const user = parameters.user ?? decoded(parsed.username);
  return {
    connection: {
      connectionString: query === "" ? base : `${base}?${query}`,
      host: String(host),
      port: Number(port),
      database: database === "" ? undefined : database,
      user: user === "" ? undefined : String(user),
    },
    options: options as PostgresUrlOptions,
  };
}

const KNOWN_OPTIONS: readonly string[] = [
  "url",
  "pool",
  "poolConfig",
  "schema",
  "table",
  "migrate",
  "unlogged",
  "operationTimeoutMs",
  "gcIntervalMs",
  "gcBatchSize",
  "pooler",
  "onError",
  "now",
];

/**
 * The connection of {@link PostgresStoreOptions} (exactly one of `url` and
 * `pool`), and the options with those the URL sets merged in. An option set
 * both in the URL and in code is `INVALID_CONFIG`, as is an unknown option
 * name (a misspelt or renamed one would otherwise be ignored).
 */
export function resolveConnection(options: PostgresStoreOptions): {
  readonly source: PostgresConnectionSource;
  readonly options: PostgresStoreCommonOptions;
} {
  if (options === null || typeof options !== "object") {
    throw storeConfigError(STORE, "options must be an object with `url` or `pool`");
  }
  checkOptionNames(STORE, options, KNOWN_OPTIONS);
  if ((options.pool !== undefined) === (options.url !== undefined)) {
    throw storeConfigError(STORE, "pass exactly one of `url` and `pool`");
  }
  if (options.pool !== undefined) {
    const { pool } = options;
    if (typeof pool?.query !== "function" || typeof pool.connect !== "function") {
      throw storeConfigError(STORE, "pool must be a pg.Pool");
    }
    if (options.poolConfig !== undefined) {
      throw storeConfigError(STORE, "poolConfig applies to the store's own pool only (with `url`)");
    }
    return { source: { pool }, options };
  }
  const { connection, options: fromUrl } = parsePostgresUrl(options.url);
  const merged = mergeUrlOptions(STORE, options as PostgresStoreCommonOptions, fromUrl);
  const poolConfig = options.poolConfig ?? {};
  if (poolConfig === null || typeof poolConfig !== "object") {
    throw storeConfigError(STORE, "poolConfig must be an object of pg.Pool settings");
  }
  return {
    source: { connectionString: connection.connectionString, poolConfig },
    options: merged,
  };
}
