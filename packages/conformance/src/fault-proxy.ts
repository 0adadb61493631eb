import { connect, createServer, type Server, type Socket } from "node:net";

/** What {@link FaultProxy} does to traffic. */
export type Fault =
  /** Forward everything (no fault). */
  | "none"
  /** Stop listening and close every connection: the server is down, connections are refused. */
  | "refuse"
  /**
   * Keep connections open but deliver nothing either way, holding the bytes:
   * a frozen server (SIGSTOP) or a partitioned network. As with TCP, the held
   * bytes are delivered, in order, when the fault clears.
   */
  | "black-hole"
  /** Close a connection as soon as the client sends a command, before any answer: cut mid-command. */
  | "cut"
  /** Forward, but hold each chunk for `delayMs` first. */
  | "delay";

/**
 * A TCP proxy on 127.0.0.1 in front of a real server, for fault injection: a
 * store under test connects through it, and the test switches faults on and
 * off. It listens on the same port for its whole life, so a store's client
 * can reconnect to it after a fault.
 *
 * @example
 * ```ts
 * const proxy = await FaultProxy.start({ host: "127.0.0.1", port: 6379 });
 * const store = createRedisStore({ url: `redis://127.0.0.1:${proxy.port}` });
 * await proxy.inject("black-hole");
 * await expect(store.get(randomKey())).rejects.toMatchObject({ code: "STORE_TIMEOUT" });
 * await proxy.inject("none");
 * ```
 */
export class FaultProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;
  #fault: Fault = "none";
  #delayMs = 0;
  /** Bytes held back during a black-hole, delivered in order when it clears. */
  readonly #held: Array<{ to: Socket; chunk: Buffer }> = [];

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  /** Starts a proxy to `target` on a free local port. */
  static async start(target: { host: string; port: number }): Promise<FaultProxy> {
    const proxy = new FaultProxy(target);
    await proxy.#listen();
    return proxy;
  }

  /** The local port clients connect to. */
  get port(): number {
    return this.#port;
  }

  /** The current fault. */
  get fault(): Fault {
    return this.#fault;
  }

  /** Switches to a fault (`"none"` heals). `delayMs` applies to `"delay"`. */
  async inject(fault: Fault, delayMs = 0): Promise<void> {
    const previous = this.#fault;
    this.#fault = fault;
    this.#delayMs = delayMs;
    if (fault === "refuse") {
      // server.close() waits for open connections: drop them first.
      const closing = this.#unlisten();
      this.#dropAll();
      await closing;
    } else if (previous === "refuse") {
      await this.#listen();
    }
    if (fault === "cut") this.#dropAll();
    if (fault !== "black-hole") {
      for (const { to, chunk } of this.#held.splice(0)) if (!to.destroyed) to.write(chunk);
    }
  }

  /** Stops the proxy for good. */
  async close(): Promise<void> {
    this.#fault = "refuse";
    this.#held.length = 0;
    const closing = this.#unlisten();
    this.#dropAll();
    await closing;
  }

  #listen(): Promise<void> {
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => {
        const address = server.address();
        if (address !== null && typeof address === "object") this.#port = address.port;
        resolve();
      });
    });
  }

  async #unlisten(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #dropAll(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  #accept(downstream: Socket): void {
    if (this.#fault === "refuse") {
      downstream.destroy();
      return;
    }
    const upstream = connect(this.#target);
    this.#sockets.add(downstream);
    this.#sockets.add(upstream);
    const drop = (): void => {
      downstream.destroy();
      upstream.destroy();
      this.#sockets.delete(downstream);
      this.#sockets.delete(upstream);
    };
    const forward = (to: Socket, fromClient: boolean) => (chunk: Buffer) => {
      switch (this.#fault) {
        case "black-hole":
          this.#held.push({ to, chunk });
          return;
        case "cut":
          if (fromClient) drop();
          else to.write(chunk);
          return;
        case "delay":
          setTimeout(() => {
            if (!to.destroyed) to.write(chunk);
          }, this.#delayMs).unref();
          return;
        default:
          to.write(chunk);
      }
    };
    downstream.on("data", forward(upstream, true));
    upstream.on("data", forward(downstream, false));
    for (const socket of [downstream, upstream]) {
      socket.on("error", drop);
      socket.on("close", drop);
    }
  }
}
