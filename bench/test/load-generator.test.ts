import { execFile } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLoadGenerator } from "../src/load-generator.js";

const seen: (string | undefined)[] = [];
const server = createServer((req, res) => {
  seen.push(req.headers.cookie);
  res.end(req.url === "/read" && req.method === "GET" ? "ok" : "wrong route");
});
let port = 0;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("startLoadGenerator (--loadgen-node)", () => {
  it("runs autocannon in a child on the given Node, each connection with its own cookie", async () => {
    const generator = await startLoadGenerator(process.execPath);
    expect(generator.version).toBe(process.version);
    const run = await generator.run({
      port,
      route: "read",
      cookies: ["sid=a", "sid=b"],
      connections: 2,
      seconds: 0.5,
    });
    expect(run.requests.total).toBeGreaterThan(10);
    // Requests still in flight when the run ended reached the server but were not counted.
    expect(seen.length).toBeGreaterThanOrEqual(run.requests.total);
    expect(seen.length).toBeLessThanOrEqual(run.requests.total + 2);
    expect(new Set(seen)).toEqual(new Set(["sid=a", "sid=b"]));
    expect(run.non2xx).toBe(0);
    expect(run.errors).toBe(0);
    expect(run.duration).toBeGreaterThan(0.4);
  });

  it("keeps a process alive while it waits for the child, and not after", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/load-generator-alone.ts", import.meta.url));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ["--import", "tsx", fixture], { timeout: 15_000 }, (error, out) =>
        error === null ? resolve(out) : reject(error),
      );
    });
    const [version, total] = stdout.trim().split(" ");
    expect(version).toBe(process.version);
    expect(Number(total)).toBeGreaterThan(0);
  });

  it("refuses a Node binary that is not there", async () => {
    await expect(startLoadGenerator("/nonexistent/bin/node")).rejects.toThrow(/no file at/);
  });
});
