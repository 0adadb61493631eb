import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { getRedisUrl, makeRecord, randomKey, uniqueName } from "@sessionkit/conformance";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { driveCartApp } from "../../../scripts/newcomer/drive.mjs";
import { removePrefixes, sessionKeyName } from "./cleanup.js";

// Prefixes of this run only: exact counts, and no clash with a concurrent run.
const examplePrefix = uniqueName("skreadme");
const openPrefix = uniqueName("skreadme");
const nodeRedisPrefix = uniqueName("skreadme");

beforeAll(async () => {
  process.env.REDIS_URL = await getRedisUrl();
  process.env.SESSION_PREFIX = examplePrefix;
  process.env.SESSION_STORE_URL = `${process.env.REDIS_URL}?prefix=${openPrefix}`;
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  process.env.PORT = "0";
});

afterAll(async () => {
  const raw = new Redis(process.env.REDIS_URL as string, { lazyConnect: true });
  await raw.connect();
  await removePrefixes(raw, [examplePrefix, openPrefix, nodeRedisPrefix]);
  await raw.quit();
});

it("the README example keeps a cart in Redis and logs out: one session while the cart lives, none after logout", async () => {
  const { server, store, client } = await import("./readme-example.js");
  if (!server.listening) await once(server, "listening");
  // The sessions the store holds after each request of the visit.
  const counts: number[] = [];
  const countingFetch = async (url: string, init?: RequestInit) => {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    const body = await response.text();
    counts.push(await store.count());
    return new Response(body, response);
  };
  try {
    const { port } = server.address() as AddressInfo;
    expect(await driveCartApp(`http://127.0.0.1:${port}`, { fetch: countingFetch })).toEqual({
      sessionCookies: ["__Host-sid"],
    });
    // First visit (lazy: none), two writes and a read (one), logout, old cookie (none).
    expect(counts).toEqual([0, 1, 1, 1, 0, 0]);
  } finally {
    server.closeAllConnections();
    server.close();
    await store.close();
    await client.quit();
  }
});

it("the README's registry form opens a store on the URL's prefix", async () => {
  const { store } = await import("./readme-example-open.js");
  try {
    expect(store.name).toBe("redis");
    expect(await store.count?.()).toBe(0);
  } finally {
    await store.close?.();
  }
});

it("the README's node-redis form stores sessions through the client it is given and leaves it open", async () => {
  process.env.SESSION_PREFIX = nodeRedisPrefix;
  const { client, store } = await import("./readme-example-node-redis.js");
  try {
    const key = randomKey();
    expect(await store.set(key, makeRecord(), { ifVersion: 0 })).toBe(true);
    expect(await client.exists(sessionKeyName(nodeRedisPrefix, key))).toBe(1);
    expect(await store.count()).toBe(1);
    await store.close();
    expect(client.isReady).toBe(true);
  } finally {
    await client.close();
  }
});
