import { fork } from "node:child_process";
import { describe, expect, it } from "vitest";
import { measuredCoreSpeed, referenceNanos } from "../src/reference-loop.js";

describe("measuredCoreSpeed", () => {
  it("reads the reference loop in a child process, within what a core can run", async () => {
    let forked = 0;
    const nanos = await measuredCoreSpeed((script, args) => {
      forked++;
      // From the sources, as this test runs, and not pinned: pinning would move this test's process.
      return fork(script, [...args], {
        execArgv: ["--import", "tsx", "--conditions=dev-source"],
        stdio: ["ignore", "ignore", "inherit", "ipc"],
      });
    });
    expect(forked).toBe(1);
    expect(Number.isInteger(nanos)).toBe(true);
    // One JSON.stringify of a small object: far more than 10 ns, far less than 100 µs.
    expect(nanos).toBeGreaterThan(10);
    expect(nanos).toBeLessThan(100_000);
  });

  it("fails with the child's exit when the child cannot answer", async () => {
    await expect(
      measuredCoreSpeed((script) =>
        // The script is not run: --eval replaces it with a process that exits at once.
        fork(script, [], {
          execArgv: ["--eval", "process.exit(3)"],
          stdio: ["ignore", "ignore", "inherit", "ipc"],
        }),
      ),
    ).rejects.toThrow(/reference loop process exited \(code 3\)/);
  });

  it("times the loop in this process too", () => {
    expect(referenceNanos()).toBeGreaterThan(10);
  });
});
