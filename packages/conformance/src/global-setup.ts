/**
 * A vitest global setup that starts the Redis and PostgreSQL containers a test
 * run needs, once for the whole run, hands their URLs to the test files
 * through `provide`/`inject`, and stops them when the run ends.
 *
 * ```ts
 * // vitest.config.ts
 * export default defineConfig({
 *   test: {
 *     globalSetup: ["@sessionkit/conformance/global-setup"],
 *     provide: { sessionkitServices: ["redis"] }, // default: ["redis", "postgres"]
 *   },
 * });
 * ```
 *
 * @module
 */
import type { TestProject } from "vitest/node";
import {
  MissingServiceError,
  POSTGRES_URL_KEY,
  REDIS_URL_KEY,
  type ServiceName,
  serviceImage,
  startServiceContainer,
  type TestServiceContainer,
} from "./services.js";

declare module "vitest" {
  export interface ProvidedContext {
    /**
     * Which servers the global setup of `@sessionkit/conformance` provides.
     * @default ["redis", "postgres"]
     */
    sessionkitServices?: readonly ServiceName[];
  }
}

/** The environment variable holding a service's URL for the native path. */
const URL_ENV: Record<ServiceName, string> = { redis: "REDIS_URL", postgres: "DATABASE_URL" };
const PROVIDE_KEY = { redis: REDIS_URL_KEY, postgres: POSTGRES_URL_KEY } as const;

/**
 * Starts one container per wanted service whose URL variable (`REDIS_URL`,
 * `DATABASE_URL`) is unset, or whose image variable
 * (`SESSIONKIT_TEST_REDIS_IMAGE`, `SESSIONKIT_TEST_POSTGRES_IMAGE`) is set,
 * and returns the teardown that stops them. A service with neither is left to
 * the URL variable, exactly as without this setup. A container that cannot
 * start fails the run with an error naming the image and the fix.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const wanted = project.getProvidedContext().sessionkitServices ?? ["redis", "postgres"];
  const toStart = wanted.filter((name) => {
    const explicitImage = process.env[serviceImage(name).envVar] !== undefined;
    const url = process.env[URL_ENV[name]];
    return explicitImage || url === undefined || url === "";
  });
  const results = await Promise.allSettled(toStart.map((name) => startServiceContainer(name)));
  const started: TestServiceContainer[] = [];
  const failures: unknown[] = [];
  for (const result of results) {
    if (result.status === "fulfilled") started.push(result.value);
    else failures.push(result.reason);
  }
  const teardown = async (): Promise<void> => {
    await Promise.all(started.map((container) => container.stop()));
  };
  if (failures.length > 0) {
    await teardown();
    const messages = failures.map((error) => (error as Error).message);
    throw new MissingServiceError(messages.join("\n"));
  }
  for (const container of started) project.provide(PROVIDE_KEY[container.service], container.url);
  return teardown;
}
