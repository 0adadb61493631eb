// Runs only under `pnpm test:containers` (scripts/vitest.containers.config.ts),
// with a Docker engine and one of SESSIONKIT_TEST_REDIS_IMAGE /
// SESSIONKIT_TEST_POSTGRES_IMAGE set: the container path of the test helpers.
import { getContainerRuntimeClient } from "testcontainers";
import { afterEach, describe, expect, inject, it } from "vitest";
import {
  CONTAINER_LABEL,
  getPostgresUrl,
  getRedisUrl,
  MissingServiceError,
  POSTGRES_URL_KEY,
  probeTcp,
  REDIS_URL_KEY,
  type ServiceName,
  serviceImage,
  startServiceContainer,
} from "../src/services.js";

const service: ServiceName = process.env.SESSIONKIT_TEST_REDIS_IMAGE ? "redis" : "postgres";
const { envVar, image } = serviceImage(service);
const saved = process.env[envVar];
afterEach(() => {
  process.env[envVar] = saved;
});

/** Our labelled containers: id, image and host ports. */
async function ourContainers(): Promise<{ id: string; image: string; ports: number[] }[]> {
  const client = await getContainerRuntimeClient();
  const all = await client.container.list();
  return all
    .filter((info) => info.Labels[CONTAINER_LABEL] === "true")
    .map((info) => ({
      id: info.Id,
      image: info.Image,
      ports: info.Ports.flatMap((port) => (port.PublicPort === undefined ? [] : [port.PublicPort])),
    }));
}

describe(`the container path, with ${service} image ${image}`, () => {
  it("the global setup started one labelled container of the image, and the URL helper returns its URL", async () => {
    const url = new URL(service === "redis" ? await getRedisUrl() : await getPostgresUrl());
    expect(url.toString()).toBe(inject(service === "redis" ? REDIS_URL_KEY : POSTGRES_URL_KEY));
    const containers = await ourContainers();
    expect(containers.map((c) => c.image)).toEqual([image]);
    expect(containers[0]?.ports).toContain(Number(url.port));
    await probeTcp(url.hostname, Number(url.port));
  });

  it("startServiceContainer() starts another labelled container that answers, and stop() removes it", async () => {
    const before = (await ourContainers()).map((c) => c.id);
    const started = await startServiceContainer(service);
    const url = new URL(started.url);
    const during = await ourContainers();
    const added = during.filter((c) => !before.includes(c.id));
    expect(added.map((c) => c.image)).toEqual([image]);
    expect(added[0]?.ports).toContain(Number(url.port));
    await probeTcp(url.hostname, Number(url.port));
    await started.stop();
    expect((await ourContainers()).map((c) => c.id)).toEqual(before);
  });

  it("an image that cannot be had fails with an error naming the image and the fix", async () => {
    process.env[envVar] = "sessionkit-test/no-such-image:0";
    const error = await startServiceContainer(service).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingServiceError);
    const message = (error as Error).message;
    expect(message).toContain("from image sessionkit-test/no-such-image:0");
    expect(message).toContain(
      `build the local test images with scripts/test-images.sh and set ${envVar}`,
    );
    expect(await ourContainers()).toHaveLength(1);
  });
});
