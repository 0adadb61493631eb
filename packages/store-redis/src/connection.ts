import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { RedisUrl } from "./url.js";

/**
 * Thrown when a command would have to wait for a connection that is down:
 * `classify` turns it into `STORE_UNAVAILABLE`.
 */
export class NotConnectedError extends Error {
  constructor(readonly status: string) {
    super(`not connected (${status})`);
    this.name = "NotConnectedError";
  }
}

/** Settings for clients the store creates: fail fast, never replay. */
function ownedClientOptions(timeoutMs: number): RedisOptions {
  return {
    // A command sent while disconnected fails at once instead of queueing
    // until the server returns and then running late.
    enableOfflineQueue: false,
    // The store sends the commands of one event-loop turn in one write itself
    // (`turnBatcher`), at a fraction of the CPU of ioredis's auto-pipelining.
    enableAutoPipelining: false,
    // A write whose reply was lost is reported as failed, never silently re-sent.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    // Rejects a command the server does not answer in time; the store then
    // drops the stalled connection (see `Connection.commandTimedOut`).
    commandTimeout: timeoutMs,
    // Bounded back-off: the store reconnects by itself, forever.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    // After a Sentinel or Cluster failover the old primary answers READONLY: reconnect to find the new one.
    reconnectOnError: (error) => error.message.startsWith("READONLY"),
  };
}

const backOff = (times: number): number => Math.min(100 * 2 ** Math.min(times, 5), 2_000);

/** Creates the client a store owns, from its parsed URL. */
export function clientFromUrl(url: RedisUrl, timeoutMs: number): Redis | Cluster {
  const auth = {
    ...(url.username === undefined ? {} : { username: url.username }),
    ...(url.password === undefined ? {} : { password: url.password }),
  };
  const db = url.db === undefined ? {} : { db: url.db };
  if (url.topology === "cluster") {
    return new Cluster(
      url.hosts.map(({ host, port }) => ({ host, port })),
      {
        enableOfflineQueue: false,
        clusterRetryStrategy: backOff,
        // Never auto-pipelining in a Cluster: auto-pipelined commands there do
        // not follow a MOVED reply after a failover (measured with the failover test).
        redisOptions: { ...ownedClientOptions(timeoutMs), ...auth },
      },
    );
  }
  if (url.topology === "sentinel") {
    return new Redis({
      ...ownedClientOptions(timeoutMs),
      ...auth,
      ...db,
      sentinels: url.hosts.map(({ host, port }) => ({ host, port })),
      name: url.masterName as string,
      ...(url.sentinelPassword === undefined ? {} : { sentinelPassword: url.sentinelPassword }),
      sentinelRetryStrategy: backOff,
    });
  }
  const [{ host, port }] = url.hosts as [{ host: string; port: number }];
  return new Redis({
    ...ownedClientOptions(timeoutMs),
    ...auth,
    ...db,
    host,
    port,
    ...(url.tls ? { tls: { servername: host } } : {}),
  });
}

const listening = new WeakSet<object>();
const ignoreError = (): void => {};

/**
 * Adds the store's one `error` listener to a client, ioredis or node-redis,
 * however many stores share it (the user's listeners stay). Without one an
 * `error` event is logged by ioredis as unhandled and thrown by node-redis,
 * ending the process; every failure already reaches the caller of the
 * operation as a SessionError.
 */
export function listenForErrors(client: {
  on(event: "error", listener: (error: Error) => void): unknown;
}): void {
  if (listening.has(client)) return;
  listening.add(client);
  client.on("error", ignoreError);
}

const noBatching = (): void => {};

/**
 * Makes the commands the store sends during one turn of the event loop leave
 * in one write per connection, as node-redis sends all of its commands: the
 * first command of a turn corks the client's sockets, and `setImmediate`,
 * which runs once the turn's I/O callbacks are done, uncorks them. A busy
 * server handles many requests per turn, and their commands then share the
 * system calls on both sides, without the objects ioredis's auto-pipelining
 * builds for every batch: measured on Fastify with 64 concurrent users, the
 * server's CPU per changed request fell from 80 to 60 µs (BENCHMARKS.md,
 * finding 41). Returns the function to call before each command.
 *
 * Not for a client that auto-pipelines (`enableAutoPipelining`): ioredis
 * batches its commands then. Other commands sent on a corked socket in the
 * same turn, the application's own on a shared client, leave with the
 * batch, later in the same turn and never after a timer.
 */
function turnBatcher(client: Redis | Cluster): () => void {
  if (client.options.enableAutoPipelining) return noBatching;
  // In a Cluster the masters' sockets only: the store reads and writes on
  // masters (never `scaleReads`), so corking the replicas' would be work per
  // turn for nothing.
  const sockets =
    client instanceof Cluster
      ? () => client.nodes("master").map((node) => node.stream)
      : () => [client.stream];
  const corked: NonNullable<Redis["stream"]>[] = [];
  const uncork = (): void => {
    for (const socket of corked.splice(0)) socket.uncork();
  };
  return () => {
    if (corked.length > 0) return;
    for (const socket of sockets()) {
      if (socket === undefined || socket.destroyed) continue;
      socket.cork();
      corked.push(socket);
    }
    if (corked.length > 0) setImmediate(uncork);
  };
}

/**
 * The store's view of its client, ioredis or node-redis: the commands it
 * sends, when one may be sent, and how to let go.
 */
export interface Connection {
  /** HGETALL: the hash's fields; no fields when there is no such key. */
  hgetall(key: string): Promise<Record<string, string>>;
  /** EVALSHA of a loaded script; rejects with a `NOSCRIPT …` error when the server lacks it. */
  evalsha(sha: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** EVAL of a script's source (which also loads it). */
  eval(source: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /**
   * Undefined when a command may be sent now; else a promise that settles when
   * the first connection is made, or rejects with {@link NotConnectedError}
   * (or the connection error) when the client is down.
   */
  ready(): Promise<void> | undefined;
  /** A command of this client timed out: a store-owned connection is dropped. */
  commandTimedOut(): void;
  /** Ends a store-owned client, waiting at most `timeoutMs` for QUIT; leaves one passed in open. */
  close(timeoutMs: number): Promise<void>;
}

/**
 * Tracks the readiness of `client`. Nothing is sent unless it is ready:
 * during an outage operations fail fast with `STORE_UNAVAILABLE` instead of
 * waiting in an offline queue (from where a write could land after its
 * request had already failed). Only the very first connection is waited for.
 */
export function openConnection(client: Redis | Cluster, owned: boolean): Connection {
  listenForErrors(client);
  // Operations wait for the first connection only until it is made or has
  // failed once; from then on an unready client means an outage: fail fast.
  let everReady = client.status === "ready";
  let startupFailed = false;
  if (!everReady) {
    client.once("ready", () => (everReady = true));
    client.once("close", () => (startupFailed = true));
  }

  /**
   * Settles when the first connection attempt does: resolves on ready, rejects
   * on its first error (a server that is down at start-up fails fast, like one
   * that goes down later). One promise shared by every waiting operation; core
   * bounds each operation's wait by its deadline.
   */
  let startup: Promise<void> | undefined;
  const firstReady = (): Promise<void> => {
    startup ??= new Promise<void>((resolve, reject) => {
      const settle = (error?: unknown) => {
        client.off("ready", onReady);
        client.off("error", onError);
        client.off("end", onEnd);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onReady = () => settle();
      const onError = (error: unknown) => {
        startupFailed = true;
        settle(error);
      };
      const onEnd = () => settle(new Error("Connection is closed."));
      client.on("ready", onReady);
      client.on("error", onError);
      client.on("end", onEnd);
    });
    return startup;
  };

  const batch = turnBatcher(client);
  return {
    hgetall(key) {
      batch();
      return client.hgetall(key);
    },
    evalsha(sha, keys, args) {
      batch();
      return client.evalsha(sha, keys.length, ...keys, ...args);
    },
    eval(source, keys, args) {
      batch();
      return client.eval(source, keys.length, ...keys, ...args);
    },

    ready() {
      const status = client.status;
      if (status === "ready") return undefined;
      const starting = status === "wait" || status === "connecting" || status === "connect";
      if (everReady || startupFailed || !starting) {
        return Promise.reject(new NotConnectedError(status));
      }
      const ready = firstReady();
      // A lazyConnect client connects on its first command, and we send none until ready.
      if (status === "wait") client.connect().catch(ignoreError);
      return ready;
    },

    /**
     * A command that timed out on a connection that is still open means the
     * server or the network stalled (a frozen process, a black hole): every
     * further command would wait in the client's queue, holding memory, until
     * a reply that may never come. Dropping the connection rejects and frees
     * them all, and operations fail fast while the client reconnects. Only for
     * a client the store owns (its queued commands are never resent:
     * `autoResendUnfulfilledCommands: false`); a client passed in is the
     * caller's to manage.
     */
    commandTimedOut() {
      if (!owned || client.status !== "ready") return;
      // disconnect() only ends the socket, and ioredis destroys it 2 s later
      // (its disconnectTimeout): a frozen peer never drains the socket, so the
      // queued commands would stay in memory until then. Destroying the sockets
      // rejects them at once; ioredis then reconnects as after any lost connection.
      const sockets =
        client instanceof Cluster ? client.nodes().map((node) => node.stream) : [client.stream];
      // The other commands queued on a connection time out together: the
      // first one dropped it (the status says "ready" until its close event).
      if (!sockets.some((socket) => socket !== undefined && !socket.destroyed)) return;
      client.disconnect(true);
      for (const socket of sockets) socket?.destroy();
    },

    async close(timeoutMs) {
      if (!owned) return;
      if (client.status !== "ready") {
        client.disconnect();
        return;
      }
      // QUIT lets in-flight replies arrive; a server that stops answering
      // meanwhile must not hold close() up for longer than one operation.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.quit().catch(ignoreError),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      client.disconnect();
    },
  };
}
