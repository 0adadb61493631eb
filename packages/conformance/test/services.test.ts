import {
  dockerAvailable,
  getPostgresUrl,
  getRedisUrl,
  MissingServiceError,
  uniqueName,
} from "@sessionkit/conformance";
import { afterEach, describe, expect, it } from "vitest";

const saved = {
  REDIS_URL: process.env.REDIS_URL,
  DATABASE_URL: process.env.DATABASE_URL,
  DOCKER_HOST: process.env.DOCKER_HOST,
};
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe("test services", () => {
  it("getRedisUrl() fails naming Redis and REDIS_URL when the URL points at a closed port", async () => {
    process.env.REDIS_URL = "redis://:hunter2@127.0.0.1:1";
    const error = await getRedisUrl().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingServiceError);
    expect((error as Error).message).toMatch(
      /Redis is not reachable at 127\.0\.0\.1:1 \(from REDIS_URL\)/,
    );
    expect((error as Error).message).not.toContain("hunter2");
  });

  it("getPostgresUrl() fails naming PostgreSQL and DATABASE_URL when the URL points at a closed port", async () => {
    process.env.DATABASE_URL = "postgres://user:hunter2@127.0.0.1:1/db";
    const error = await getPostgresUrl().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /PostgreSQL is not reachable at 127\.0\.0\.1:1 \(from DATABASE_URL\)/,
    );
    expect((error as Error).message).not.toContain("hunter2");
  });

  it("without a URL and without the global setup, the error says both ways to provide the service", async () => {
    delete process.env.REDIS_URL;
    // testcontainers' detection falls back from DOCKER_HOST to the default
    // sockets, so the message depends on whether this machine runs Docker.
    const docker = await dockerAvailable();
    const error = await getRedisUrl().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingServiceError);
    expect((error as Error).message).toMatch(
      docker
        ? /set REDIS_URL .* or, since a Docker engine answers, add globalSetup: \["@sessionkit\/conformance\/global-setup"\]/
        : /set REDIS_URL .* or start a Docker engine so testcontainers can run one \(add globalSetup: \["@sessionkit\/conformance\/global-setup"\]/,
    );
  });

  it("getRedisUrl() and getPostgresUrl() return the configured URLs when the servers answer", async () => {
    // The real servers this repository's tests run against: a missing one is a failure here too.
    expect(await getRedisUrl()).toMatch(/^rediss?:\/\//);
    expect(await getPostgresUrl()).toMatch(/^postgres(ql)?:\/\//);
  });

  it("uniqueName() gives distinct identifier-safe names", () => {
    const names = new Set(Array.from({ length: 100 }, () => uniqueName("t")));
    expect(names.size).toBe(100);
    for (const name of names) expect(name).toMatch(/^t_[a-z0-9]+_[0-9a-f]{10}$/);
  });
});
