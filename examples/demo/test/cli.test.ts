// `src/server.ts` as `pnpm demo` runs it: a real child process.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const demoDir = fileURLToPath(new URL("..", import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];

function startServer(env: Record<string, string>): ChildProcess {
  const { SESSION_SECRET: _secret, NODE_ENV: _env, ...inherited } = process.env;
  const child = spawn(
    process.execPath,
    ["--conditions=dev-source", "--import", "tsx", "src/server.ts"],
    { cwd: demoDir, env: { ...inherited, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  return child;
}

function collect(stream: NodeJS.ReadableStream | null): { text: string } {
  const out = { text: "" };
  stream?.setEncoding("utf8");
  stream?.on("data", (chunk: string) => {
    out.text += chunk;
  });
  return out;
}

/** Resolves with the printed URL once the server says it is listening. */
function waitForUrl(child: ChildProcess, stderr: { text: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      stdout += chunk;
      const match = /open (http:\/\/localhost:\d+)\n/.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) =>
      reject(new Error(`server exited with ${code} before listening:\n${stderr.text}`)),
    );
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exitCode(child);
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("src/server.ts", () => {
  it("refuses to start without SESSION_SECRET when NODE_ENV=production", async () => {
    const child = startServer({ NODE_ENV: "production", PORT: "0" });
    const stderr = collect(child.stderr);
    expect(await exitCode(child)).toBe(1);
    expect(stderr.text).toContain("SESSION_SECRET is required when NODE_ENV=production");
  });

  it("starts with a generated secret in development, warns, prints the URL and serves it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sessionkit-demo-cli-"));
    dirs.push(dir);
    const child = startServer({
      NODE_ENV: "development",
      PORT: "0",
      SESSION_STORE_URL: `sqlite:${join(dir, "sessions.db")}`,
    });
    const stderr = collect(child.stderr);
    const url = await waitForUrl(child, stderr);
    expect(stderr.text).toContain("SESSION_SECRET is not set");
    expect(stderr.text).toContain("will not survive a restart");

    const reply = await fetch(url);
    expect(reply.status).toBe(200);
    expect(await reply.text()).toContain("<h1>Shop</h1>");

    child.kill("SIGTERM");
    expect(await exitCode(child)).toBe(0);
  });
});
