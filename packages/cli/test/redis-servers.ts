import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitUntil } from "@sessionkit/conformance";
import { Redis } from "ioredis";

/** Redis servers a test file starts itself, as its own children, on free ports. */
export class RedisServers {
  readonly #dir = mkdtempSync(join(tmpdir(), "sk-cli-redis-"));
  readonly #children: ChildProcess[] = [];

  /**
   * Starts `redis-server` with persistence off plus `args`; resolves to its
   * port once it answers PING (with `password`, when it has one).
   */
  async start(args: readonly string[] = [], password?: string): Promise<number> {
    const port = await freePort();
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.#dir,
        ...args,
      ],
      { stdio: "ignore" },
    );
    this.#children.push(child);
    const spawnFailed = new Promise<never>((_, reject) =>
      child.once("error", (error) =>
        reject(new Error(`cannot start redis-server (is it installed?): ${error.message}`)),
      ),
    );
    spawnFailed.catch(() => {});
    await Promise.race([
      waitUntil(`redis-server on port ${port}`, async () => {
        const client = new Redis({
          port,
          host: "127.0.0.1",
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
          ...(password === undefined ? {} : { password }),
        });
        client.on("error", () => {});
        try {
          await client.connect();
          return (await client.ping()) === "PONG";
        } finally {
          client.disconnect();
        }
      }),
      spawnFailed,
    ]);
    return port;
  }

  /** Stops every server this instance started and removes their files. */
  stopAll(): void {
    for (const child of this.#children) child.kill("SIGKILL");
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
