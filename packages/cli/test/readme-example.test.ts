import { describe, expect, it, vi } from "vitest";
import { checkSessionStore } from "./readme-example.js";

describe("README example", () => {
  it("runCli(['doctor', …]) resolves to the exit code and prints the JSON report", async () => {
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await checkSessionStore("memory:")).toBe(0);
      expect(JSON.parse(String(write.mock.calls[0]?.[0]))).toMatchObject({
        store: "memory:",
        summary: { ok: 0, info: 1, warnings: 0, errors: 0 },
        exitCode: 0,
      });
    } finally {
      write.mockRestore();
    }
  });
});
