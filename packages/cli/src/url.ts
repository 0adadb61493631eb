import { redactSecrets } from "@sessionkit/core/store";

/**
 * Store URLs as the CLI needs them beside the store itself: the store parses
 * and validates a URL when the registry opens it; these helpers only extract
 * what the diagnostics need (hosts, the database file), after that succeeded.
 */

/** The URL with credentials replaced by `***`: safe to print. */
export function redactUrl(url: string): string {
  return redactSecrets(url);
}

/** The lowercase scheme of a store URL (`"redis"`, `"redis+sentinel"`, `"sqlite"`…), or `""`. */
export function schemeOf(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return match === null ? "" : (match[1] as string).toLowerCase();
}

/** One `host:port`. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** What the CLI's own Redis connection needs from a store URL. */
export interface RedisTarget {
  readonly topology: "standalone" | "sentinel" | "cluster";
  /** The server (standalone), the sentinels, or the cluster seed nodes. */
  readonly hosts: readonly HostPort[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly db: number | undefined;
  readonly tls: boolean;
  /** Sentinel master name. */
  readonly masterName: string | undefined;
  readonly sentinelPassword: string | undefined;
  /** The store's key prefix. */
  readonly prefix: string;
}

function hostList(text: string, defaultPort: number): HostPort[] {
  return text.split(",").map((entry) => {
    const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
    const host = (match?.[1] ?? entry).replace(/^\[(.*)\]$/, "$1");
    return { host, port: match?.[2] === undefined ? defaultPort : Number(match[2]) };
  });
}

function decode(text: string | undefined): string | undefined {
  if (text === undefined || text === "") return undefined;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Parses a `redis://`, `rediss://`, `redis+sentinel://` or `redis+cluster://` URL the store accepted. */
export function parseRedisUrl(url: string): RedisTarget {
  const match =
    /^(redis|rediss|redis\+sentinel|redis\+cluster):\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(
      url,
    );
  if (match === null) throw new TypeError("not a Redis store URL");
  const scheme = (match[1] as string).toLowerCase();
  const [userPart, passwordPart] = (match[2] ?? "").split(/:(.*)/s, 2);
  const path = decode(match[4]);
  const query = new URLSearchParams(match[5] ?? "");
  const dbText = query.get("db") ?? (scheme === "redis+sentinel" ? undefined : path);
  const topology =
    scheme === "redis+cluster"
      ? "cluster"
      : scheme === "redis+sentinel"
        ? "sentinel"
        : "standalone";
  return {
    topology,
    hosts: hostList(match[3] ?? "", topology === "sentinel" ? 26379 : 6379),
    username: decode(userPart),
    password: decode(passwordPart),
    db: dbText === undefined ? undefined : Number(dbText),
    tls: scheme === "rediss",
    masterName: topology === "sentinel" ? path : undefined,
    sentinelPassword: query.get("sentinelPassword") ?? undefined,
    prefix: query.get("prefix") ?? "sess",
  };
}

/** Query parameters the Postgres store reads from its URL (they never reach pg). */
const POSTGRES_STORE_PARAMS = [
  "schema",
  "table",
  "createTableIfMissing",
  "unlogged",
  "statementTimeoutMs",
  "connectTimeoutMs",
  "gcIntervalMs",
  "pooler",
];

/** What the CLI's own PostgreSQL connection needs from a store URL. */
export interface PostgresTarget {
  /** The URL without the store's parameters, for pg. */
  readonly connectionString: string;
  /** The port the URL names (5432 when it names none). */
  readonly port: number;
  /** The URL's `pooler` parameter (`"none"` when absent). */
  readonly pooler: string;
  /** The URL's `unlogged` parameter. */
  readonly unlogged: boolean;
}

/** Parses a `postgres://` URL the store accepted. */
export function parsePostgresUrl(url: string): PostgresTarget {
  const parsed = new URL(url);
  const pooler = parsed.searchParams.get("pooler") ?? "none";
  const unlogged = parsed.searchParams.get("unlogged") === "true";
  for (const name of POSTGRES_STORE_PARAMS) parsed.searchParams.delete(name);
  const port = parsed.port === "" ? 5432 : Number(parsed.port);
  return { connectionString: parsed.toString(), port, pooler, unlogged };
}

/** What the CLI needs from a `sqlite:` URL. */
export interface SqliteTarget {
  /** The database file as written in the URL, or `":memory:"`. */
  readonly path: string;
  /** The session table. */
  readonly table: string;
}

/** Parses `sqlite:./file.db`, `sqlite:/abs/file.db`, `sqlite:///abs/file.db` or `sqlite::memory:`, as the store does. */
export function parseSqliteUrl(url: string): SqliteTarget {
  let rest = url.slice("sqlite:".length);
  const question = rest.indexOf("?");
  const query = question === -1 ? null : new URLSearchParams(rest.slice(question + 1));
  if (question !== -1) rest = rest.slice(0, question);
  if (rest.startsWith("//")) rest = rest.slice(2);
  return { path: rest, table: query?.get("table") || "sessionkit_sessions" };
}
