import { type Connection, listenForErrors, NotConnectedError } from "./connection.js";

/** The arguments of node-redis's `EVAL` and `EVALSHA`. */
interface EvalOptions {
  /** The script's KEYS (one hash slot). */
  keys: string[];
  /** The script's ARGV. */
  arguments: string[];
}

/**
 * What the store uses of a node-redis (v5) client: `createClient()`,
 * `createCluster()` or `createSentinel()` from `redis` or `@redis/client`,
 * already connected (or connecting). Described by its shape, so the store
 * needs no import of node-redis, and a client of node-redis 5's
 * `RedisClientType`, `RedisClusterType` or `RedisSentinelType` fits it.
 */
export interface NodeRedisClient {
  /** Whether `connect()` was called and `close()`/`destroy()` was not. */
  readonly isOpen: boolean;
  /** A client and a Sentinel say whether they can send now; a Cluster does not have it. */
  readonly isReady?: boolean;
  /** `HGETALL`: the store's common read. */
  hGetAll(key: string): Promise<unknown>;
  /** `EVALSHA`: every read-modify-write of a session is one of the store's scripts. */
  evalSha(sha1: string, options: EvalOptions): Promise<unknown>;
  /** `EVAL`: a script the server does not have yet (`NOSCRIPT`), which also loads it. */
  eval(script: string, options: EvalOptions): Promise<unknown>;
  /** The store adds one `error` listener, so an `error` event never ends the process. */
  on(event: "error", listener: (error: Error) => void): unknown;
  /** Removes the store's own listeners of the first connection once it is made. */
  off(event: "error", listener: (error: Error) => void): unknown;
}

/** The node-redis surface the store calls, with the type mapping reset (see {@link openNodeRedisConnection}). */
type Commands = Pick<NodeRedisClient, "hGetAll" | "evalSha" | "eval">;

const isFunction = (value: unknown): boolean => typeof value === "function";

/**
 * Whether `client` is (shaped like) a node-redis client, Cluster or Sentinel:
 * the commands the store sends, `on`, and a boolean `isOpen`.
 */
export function isNodeRedisClient(client: unknown): client is NodeRedisClient {
  if (client === null || typeof client !== "object") return false;
  const candidate = client as Record<string, unknown>;
  return (
    typeof candidate.isOpen === "boolean" &&
    isFunction(candidate.hGetAll) &&
    isFunction(candidate.evalSha) &&
    isFunction(candidate.eval) &&
    isFunction(candidate.on) &&
    isFunction(candidate.off)
  );
}

/** How often an operation waiting for the client's first connection looks again, ms. */
const STARTUP_POLL_MS = 10;

/**
 * The store's view of a node-redis client it was given: the client is the
 * caller's, so `close()` leaves it open and a timed-out command does not
 * drop its connection. Nothing is sent while the client is not ready: an
 * operation during an outage fails fast with `STORE_UNAVAILABLE` rather than
 * waiting in the client's offline queue (from where a write could land after
 * its request had failed). Only the very first connection is waited for.
 */
export function openNodeRedisConnection(client: NodeRedisClient): Connection {
  listenForErrors(client);
  // A type mapping of the caller's (RESP3 maps as `Map`, strings as
  // `Buffer`) would change the shape of replies: the store's commands use
  // the default mapping, on a view of the same client and connections.
  const withTypeMapping = (client as { withTypeMapping?: unknown }).withTypeMapping;
  const commands = (
    typeof withTypeMapping === "function" ? withTypeMapping.call(client, {}) : client
  ) as Commands;

  /** A Cluster has no `isReady`: it routes each command to a node that is up, or fails it. */
  const isReady = (): boolean => client.isReady !== false;
  let everReady = isReady() && client.isOpen;
  let startupFailed = false;

  /**
   * Settles when the first connection does: resolves once ready, rejects on
   * the client's first error (a server down at start-up fails fast, as one
   * that goes down later) or when it is closed meanwhile. node-redis has no
   * `ready` event on every kind of client, so this looks every few ms; only
   * operations issued before the first connection ever wait here, and core
   * bounds each wait by its deadline.
   */
  let startup: Promise<void> | undefined;
  const firstReady = (): Promise<void> => {
    startup ??= new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (error?: unknown): void => {
        clearTimeout(timer);
        client.off("error", onError);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onError = (error: Error): void => {
        startupFailed = true;
        settle(error);
      };
      const look = (): void => {
        if (!client.isOpen) settle(new NotConnectedError("closed"));
        else if (isReady()) {
          everReady = true;
          settle();
        } else {
          // Never what keeps the process alive, should the client never connect.
          timer = setTimeout(look, STARTUP_POLL_MS);
          timer.unref();
        }
      };
      client.on("error", onError);
      look();
    });
    return startup;
  };

  return {
    hgetall: (key) => commands.hGetAll(key) as Promise<Record<string, string>>,
    // node-redis only reads the arrays (and the backend builds fresh ones per call).
    evalsha: (sha, keys, args) =>
      commands.evalSha(sha, { keys: keys as string[], arguments: args as string[] }),
    eval: (source, keys, args) =>
      commands.eval(source, { keys: keys as string[], arguments: args as string[] }),

    ready() {
      if (!client.isOpen) {
        return Promise.reject(
          new NotConnectedError("closed: call connect() on the node-redis client"),
        );
      }
      if (isReady()) {
        everReady = true;
        return undefined;
      }
      if (everReady || startupFailed) return Promise.reject(new NotConnectedError("reconnecting"));
      return firstReady();
    },

    commandTimedOut() {},
    close: async () => {},
  };
}
