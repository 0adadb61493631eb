import { redactSecrets } from "@sessionkit/core/store";
import { parseSqliteUrl as parseStoreSqliteUrl } from "@sessionkit/store-sqlite";

/** The session table of a SQLite store that names none. */
const DEFAULT_SQLITE_TABLE = "sessionkit_sessions";

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

/** What the CLI needs from a `sqlite:` URL. */
export interface SqliteTarget {
  /** The database file as written in the URL, or `":memory:"`. */
  readonly path: string;
  /** The session table. */
  readonly table: string;
}

/** The database file and session table of a `sqlite:` URL, read with the store's own grammar. */
export function parseSqliteUrl(url: string): SqliteTarget {
  const { path, options } = parseStoreSqliteUrl(url);
  return { path, table: options.table ?? DEFAULT_SQLITE_TABLE };
}
