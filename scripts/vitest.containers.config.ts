import { fileURLToPath } from "node:url";
import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../vitest.shared.ts";

/**
 * vitest settings for `pnpm test:containers` (scripts/test-containers.mjs),
 * used with `--root packages/<package>`: the conformance global setup starts
 * one container per service whose image variable is set
 * (`SESSIONKIT_TEST_REDIS_IMAGE`, `SESSIONKIT_TEST_POSTGRES_IMAGE`) for the
 * whole run, hands its URL to the test files and stops it at the end.
 */
const IMAGE_VARIABLES = {
  redis: "SESSIONKIT_TEST_REDIS_IMAGE",
  postgres: "SESSIONKIT_TEST_POSTGRES_IMAGE",
} as const;
const services = (["redis", "postgres"] as const).filter(
  (service) => (process.env[IMAGE_VARIABLES[service]] ?? "") !== "",
);

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      globalSetup: [
        fileURLToPath(new URL("../packages/conformance/src/global-setup.ts", import.meta.url)),
      ],
      provide: { sessionkitServices: services },
      // Tests of the container path itself, which need a Docker engine.
      include: ["test/**/*.containers.ts"],
    },
  }),
);
