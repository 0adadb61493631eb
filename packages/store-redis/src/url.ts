import { readUrlParameters, storeConfigError, wholeNumberOption } from "@sessionkit/core/store";

const STORE = "redis";

/** Key prefix of a store that names none. */
export const DEFAULT_PREFIX = "sess";
/** `operationTimeoutMs` of a store that names none, in ms. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 2_000;

/** Letters, digits and `_ - . : /`, 1 to 64 characters (no braces: they would change the hash slot). */
const PREFIX = /^[A-Za-z0-9_\-.:/]{1,64}$/;

/** One Redis server, sentinel or Cluster seed node. */
export interface RedisHost {
  /** Host name or IP address (an IPv6 address without its brackets). */
  readonly host: string;
  /** TCP port, 1 to 65535. */
  readonly port: number;
}

/** How the store reaches Redis. */
export type RedisTopology = "standalone" | "sentinel" | "cluster";

/**
 * A Redis store URL, read by {@link parseRedisUrl}: where the servers are, how
 * to authenticate, and the store options the URL sets.
 */
export interface RedisUrl {
  /** `standalone` (`redis://`, `rediss://`), `sentinel` (`redis+sentinel://`) or `cluster` (`redis+cluster://`). */
  readonly topology: RedisTopology;
  /**
   * The server (standalone: exactly one), the sentinels or the Cluster seed
   * nodes. Default port 6379, or 26379 for sentinels.
   */
  readonly hosts: readonly RedisHost[];
  /** ACL user name, percent-decoded. */
  readonly username: string | undefined;
  /** Password, percent-decoded. Never print it. */
  readonly password: string | undefined;
  /** Logical database: the path of `redis://…/n`, or `?db=n` (Sentinel). Cluster has only 0. */
  readonly db: number | undefined;
  /** `rediss://`: TLS, checking the server's name. */
  readonly tls: boolean;
  /** The Sentinel master name (the path of `redis+sentinel://…/name`). */
  readonly masterName: string | undefined;
  /** `?sentinelPassword=`: the password of the sentinels themselves. */
  readonly sentinelPassword: string | undefined;
  /** `?prefix=`: the store's key prefix. @default "sess" */
  readonly prefix: string;
  /** `?operationTimeoutMs=`: the store's deadline per call, in ms. @default 2000 */
  readonly operationTimeoutMs: number;
  /** The store options the URL's query sets (only those present), as `createRedisStore` takes them. */
  readonly options: { readonly prefix?: string; readonly operationTimeoutMs?: number };
}

/** Query parameters of a store URL, and how each is read. */
const URL_PARAMETERS = {
  prefix: "string",
  operationTimeoutMs: "integer",
  db: "integer",
  sentinelPassword: "string",
} as const;

const SCHEME_AND_PARTS =
  /^(redis|rediss|redis\+sentinel|redis\+cluster):\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i;

function invalidUrl(why: string): Error {
  return storeConfigError(STORE, `invalid store URL (${why})`);
}

/** `prefix` if it is a valid key prefix, else `INVALID_CONFIG`. */
export function prefixOption(value: unknown): string {
  if (typeof value !== "string" || !PREFIX.test(value)) {
    throw storeConfigError(
      STORE,
      "prefix must be 1 to 64 letters, digits or _ - . : / (no braces)",
    );
  }
  return value;
}

function hostList(text: string, defaultPort: number): RedisHost[] {
  return text.split(",").map((entry) => {
    const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
    if (match === null) throw invalidUrl("a host must be host or host:port");
    const host = (match[1] as string).replace(/^\[(.*)\]$/, "$1");
    const port = match[2] === undefined ? defaultPort : Number(match[2]);
    if (port < 1 || port > 65_535) throw invalidUrl("a port must be from 1 to 65535");
    return { host, port };
  });
}

function decode(text: string | undefined): string | undefined {
  if (text === undefined || text === "") return undefined;
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalidUrl("bad percent-encoding");
  }
}

/**
 * Reads a Redis store URL without connecting, with the store's own grammar:
 *
 * - `redis://[[user]:password@]host[:port][/db]`, `rediss://…` (TLS);
 * - `redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/masterName[?db=n&sentinelPassword=…]`;
 * - `redis+cluster://[[user]:password@]host[:port][,host[:port]…]`;
 *
 * each with the query parameters `prefix` and `operationTimeoutMs`. Anything
 * else (an unknown or repeated parameter, a second host on `redis://`, a
 * database other than 0 on Cluster) is a `SessionError` `INVALID_CONFIG`
 * whose message never repeats the URL, which may hold a password.
 *
 * @example
 * ```ts
 * import { parseRedisUrl } from "@sessionkit/store-redis";
 *
 * const { topology, hosts, prefix } = parseRedisUrl("redis+cluster://10.0.0.1,10.0.0.2:7000?prefix=app");
 * // "cluster", [{ host: "10.0.0.1", port: 6379 }, { host: "10.0.0.2", port: 7000 }], "app"
 * ```
 */
export function parseRedisUrl(url: string): RedisUrl {
  if (typeof url !== "string") throw storeConfigError(STORE, "url must be a string");
  const match = SCHEME_AND_PARTS.exec(url);
  if (match === null) {
    throw invalidUrl(
      "expected redis://, rediss://, redis+sentinel:// or redis+cluster:// followed by a host",
    );
  }
  const scheme = (match[1] as string).toLowerCase();
  const topology: RedisTopology =
    scheme === "redis+cluster"
      ? "cluster"
      : scheme === "redis+sentinel"
        ? "sentinel"
        : "standalone";
  const [userPart, passwordPart] = (match[2] ?? "").split(/:(.*)/s, 2);
  const hostText = match[3] ?? "";
  const path = decode(match[4]);
  const query = readUrlParameters(STORE, url, URL_PARAMETERS);

  if (hostText === "") throw invalidUrl("no host");
  const hosts = hostList(hostText, topology === "sentinel" ? 26_379 : 6_379);
  if (topology === "standalone" && hosts.length > 1) {
    throw invalidUrl(`${scheme}:// takes one host; use redis+cluster:// for several`);
  }
  if (topology === "sentinel" && (path === undefined || path.includes("/"))) {
    throw invalidUrl("redis+sentinel:// needs the master name as its path");
  }
  if (topology !== "sentinel" && query.db !== undefined && path !== undefined) {
    throw invalidUrl("give the database as the path or as ?db=, not both");
  }
  let db = query.db as number | undefined;
  if (topology !== "sentinel" && path !== undefined) {
    if (!/^\d{1,9}$/.test(path)) throw invalidUrl("the database must be a non-negative integer");
    db = Number(path);
  }
  if (topology === "cluster" && db !== undefined && db !== 0) {
    throw invalidUrl("Redis Cluster has only database 0");
  }
  return {
    topology,
    hosts,
    username: decode(userPart),
    password: decode(passwordPart),
    db,
    tls: scheme === "rediss",
    masterName: topology === "sentinel" ? path : undefined,
    sentinelPassword: query.sentinelPassword as string | undefined,
    prefix: prefixOption(query.prefix ?? DEFAULT_PREFIX),
    operationTimeoutMs: wholeNumberOption(
      STORE,
      "operationTimeoutMs",
      query.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS,
    ),
    options: {
      ...(query.prefix === undefined ? {} : { prefix: query.prefix as string }),
      ...(query.operationTimeoutMs === undefined
        ? {}
        : { operationTimeoutMs: query.operationTimeoutMs as number }),
    },
  };
}
