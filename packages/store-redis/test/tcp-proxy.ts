import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy in front of the real test Redis, to take the server "down"
 * (refuse connections), make it hang (accept, never answer) and bring it back
 * on the same port, without touching the shared server itself.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;
  #hanging = false;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  /** Starts a proxy to the server of `url` on a free local port. */
  static async start(url: string): Promise<TcpProxy> {
    const parsed = new URL(url);
    const proxy = new TcpProxy({
      host: parsed.hostname || "127.0.0.1",
      port: parsed.port === "" ? 6379 : Number(parsed.port),
    });
    await proxy.resume();
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  /** A redis:// URL through the proxy, with an optional password in it. */
  url(password?: string): string {
    return `redis://${password === undefined ? "" : `:${password}@`}127.0.0.1:${this.#port}`;
  }

  /** Listens again (on the same port after the first start) and forwards traffic. */
  resume(): Promise<void> {
    this.#hanging = false;
    const server = createServer((downstream) => this.#accept(downstream));
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

  /** Server down: stops listening and cuts every open connection. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Server hangs: connections stay open but nothing is forwarded either way. */
  hang(): void {
    this.#hanging = true;
  }

  #accept(downstream: Socket): void {
    this.#sockets.add(downstream);
    const upstream = connect(this.#target);
    this.#sockets.add(upstream);
    const drop = () => {
      downstream.destroy();
      upstream.destroy();
      this.#sockets.delete(downstream);
      this.#sockets.delete(upstream);
    };
    downstream.on("data", (chunk) => {
      if (!this.#hanging) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!this.#hanging) downstream.write(chunk);
    });
    downstream.on("error", drop);
    upstream.on("error", drop);
    downstream.on("close", drop);
    upstream.on("close", drop);
  }
}
