import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitUntil } from "@sessionkit/conformance";
import { Redis } from "ioredis";

/** Sends one command to 127.0.0.1:port on a short-lived connection. */
export async function command(port: number, ...args: string[]): Promise<unknown> {
  const client = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: 1_000,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return await client.call(args[0] as string, ...args.slice(1));
  } finally {
    client.disconnect();
  }
}

/**
 * Redis processes this test starts itself (children of the test process, so
 * stopping them never touches a server anyone else uses).
 */
export class RedisProcesses {
  readonly dir = mkdtempSync(join(tmpdir(), "sk-redis-"));
  readonly #children = new Map<number, ChildProcess>();

  /** Starts redis-server on `port` with extra arguments; resolves once it answers PING. */
  async server(port: number, ...args: string[]): Promise<void> {
    await this.#spawn(port, [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      this.dir,
      ...args,
    ]);
  }

  /** Starts a sentinel on `port` monitoring `name` at 127.0.0.1:primaryPort with quorum 1. */
  async sentinel(port: number, name: string, primaryPort: number): Promise<void> {
    const config = join(this.dir, `sentinel-${port}.conf`);
    writeFileSync(
      config,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 1`,
        `sentinel down-after-milliseconds ${name} 500`,
        `sentinel failover-timeout ${name} 3000`,
        "",
      ].join("\n"),
    );
    await this.#spawn(port, [config, "--sentinel"]);
  }

  /** Kills the server on `port` (SIGKILL: a crash, not a clean shutdown). */
  kill(port: number): void {
    this.#children.get(port)?.kill("SIGKILL");
    this.#children.delete(port);
  }

  /** Stops every process this instance started and removes its files. */
  stopAll(): void {
    for (const port of [...this.#children.keys()]) this.kill(port);
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #spawn(port: number, args: string[]): Promise<void> {
    const child = spawn("redis-server", args, { stdio: "ignore" });
    const failed = new Promise<never>((_, reject) => {
      child.once("error", (error) =>
        reject(new Error(`cannot start redis-server (is it installed?): ${error.message}`)),
      );
    });
    failed.catch(() => {});
    this.#children.set(port, child);
    await Promise.race([
      waitUntil(
        `redis-server on port ${port}`,
        async () => (await command(port, "PING")) === "PONG",
        10_000,
      ),
      failed,
    ]);
  }
}
