import { defineConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

/**
 * Runs only the broken-store fixtures (test/fixtures), for test/suite-fails.test.ts,
 * reporting to the file it names; never part of the package's own run.
 */
export default defineConfig({
  ...shared,
  test: {
    include: ["test/fixtures/*.fixture.ts"],
    typecheck: { enabled: false },
    testTimeout: 20_000,
    reporters: [["json", { outputFile: process.env.CONFORMANCE_FIXTURE_REPORT as string }]],
  },
});
