import { defineConfig } from "vitest/config";

/**
 * Shared vitest settings: tests run from TypeScript sources through the
 * `dev-source` export condition, so `pnpm test` needs no build.
 */
export default defineConfig({
  resolve: { conditions: ["dev-source", "module", "node", "import", "default"] },
  // Vitest hands these to its workers as `node --conditions`: "import" there
  // would make CommonJS require() calls inside dependencies (pg → pg-pool)
  // load ESM wrappers, so only add what Node lacks.
  ssr: { resolve: { conditions: ["dev-source", "node"] } },
  test: {
    include: ["test/**/*.test.ts"],
    typecheck: { enabled: false },
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // The JSON report lets `pnpm test` count distinct tests apart from
    // parameterised runs of them (the same test over several stores or apps).
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});
