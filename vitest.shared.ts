import { defineConfig } from "vitest/config";

/**
 * Shared vitest settings: tests run from TypeScript sources through the
 * `dev-source` export condition, so `pnpm test` needs no build.
 */
export default defineConfig({
  resolve: { conditions: ["dev-source", "module", "node", "import", "default"] },
  ssr: { resolve: { conditions: ["dev-source", "node", "import", "default"] } },
  test: {
    include: ["test/**/*.test.ts"],
    typecheck: { enabled: false },
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
