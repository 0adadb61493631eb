import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Runs the fixture program in a fresh Node process; returns every module it loaded. */
async function loadedModules(args: readonly string[]): Promise<string[]> {
  const { stdout } = await run(
    process.execPath,
    [
      "--conditions=dev-source",
      "--import",
      "tsx",
      "--import",
      fixture("record-modules.mjs"),
      fixture("load-and-commit.ts"),
      ...args,
    ],
    { cwd: fileURLToPath(new URL("..", import.meta.url)), timeout: 60_000 },
  );
  const { urls, required } = JSON.parse(stdout) as { urls: string[]; required: string[] };
  return [...urls, ...required];
}

describe("without telemetry", () => {
  it("a program using core and a store loads no OpenTelemetry module", {
    timeout: 90_000,
  }, async () => {
    const modules = await loadedModules([]);
    // The recorder works: it saw core's own entry and the store.
    expect(modules.some((url) => url.includes("/packages/core/src/index.ts"))).toBe(true);
    expect(modules.some((url) => url.includes("/packages/store-memory/src/index.ts"))).toBe(true);
    expect(modules.filter((url) => url.includes("@opentelemetry"))).toEqual([]);
  });

  it("the same program with sessionTelemetry() loads @opentelemetry/api (the recorder sees it)", {
    timeout: 90_000,
  }, async () => {
    const modules = await loadedModules(["--telemetry"]);
    expect(modules.some((url) => url.includes("@opentelemetry/api"))).toBe(true);
  });
});
