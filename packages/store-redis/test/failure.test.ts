import {
  FaultProxy,
  getRedisUrl,
  makeRecord,
  randomKey,
  timedFailure,
  uniqueName,
  untilRecovered,
} from "@sessionkit/conformance";
import type { SessionRecord } from "@sessionkit/core";
import { createRedisStore, type RedisStore } from "@sessionkit/store-redis";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { removePrefixes, sessionKeyName } from "./cleanup.js";

const TIMEOUT_MS = 500;
const PASSWORD = "hunter2-correct-horse";

let redisUrl: string;
let raw: Redis;
const prefixes: string[] = [];
const cleanup: (() => Promise<void>)[] = [];

// Trapped for the whole file: a store must never leave a rejection unhandled
// or throw from a timer or event, even while the server is down (A30).
const escaped: unknown[] = [];
const trap = (reason: unknown) => {
  escaped.push(reason);
};

beforeAll(async () => {
  process.on("unhandledRejection", trap);
  process.on("uncaughtException", trap);
  redisUrl = await getRedisUrl();
  raw = new Redis(redisUrl, { lazyConnect: true });
  await raw.connect();
});

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  // Let rejections of this test's last operations surface before checking.
  await new Promise((resolve) => setImmediate(resolve));
  expect(escaped).toEqual([]);
});

afterAll(async () => {
  await removePrefixes(raw, prefixes);
  await raw.quit();
  process.off("unhandledRejection", trap);
  process.off("uncaughtException", trap);
});

/** The shared fault proxy in front of the test Redis, with the verbs these tests use. */
async function proxy() {
  const target = new URL(redisUrl);
  const p = await FaultProxy.start({
    host: target.hostname,
    port: target.port === "" ? 6379 : Number(target.port),
  });
  cleanup.push(() => p.close());
  return {
    /** A redis:// URL through the proxy, with an optional password in it. */
    url: (password?: string) =>
      `redis://${password === undefined ? "" : `:${password}@`}127.0.0.1:${p.port}`,
    /** Server down: connections refused. */
    stop: () => p.inject("refuse"),
    /** Server back on the same port. */
    resume: () => p.inject("none"),
    /** Server frozen: connections open, nothing answered. */
    hang: () => p.inject("black-hole"),
  };
}

/**
 * Brings the server back and checks the store recovers by itself: `key`'s
 * record (written before the outage) is intact and takes a compare-and-set.
 */
async function recoveredWithData(
  p: Awaited<ReturnType<typeof proxy>>,
  store: RedisStore,
  key: string,
  record: SessionRecord,
): Promise<void> {
  await p.resume();
  await untilRecovered(() => store.count(), 10_000);
  expect((await store.get(key))?.payload).toBe(record.payload);
  expect(await store.set(key, { ...record, version: 2 }, { ifVersion: 1 })).toBe(true);
}

function storeAt(url: string): RedisStore {
  const prefix = uniqueName("skredisfail");
  prefixes.push(prefix);
  const store = createRedisStore({ url, prefix, operationTimeoutMs: TIMEOUT_MS });
  cleanup.push(() => store.close());
  return store;
}

/** Every operation of the store, each with fresh arguments. */
function everyOperation(store: RedisStore): [string, () => Promise<unknown>][] {
  const key = randomKey();
  return [
    ["get", () => store.get(key)],
    ["set", () => store.set(key, makeRecord(), { ifVersion: 0 })],
    ["destroy", () => store.destroy(key)],
    ["touch", () => store.touch(key, Date.now() + 60_000)],
    ["rename", () => store.rename(key, randomKey(), makeRecord())],
    ["listByUser", () => store.listByUser("u1")],
    ["destroyByUser", () => store.destroyByUser("u1")],
    ["count", () => store.count()],
    ["clear", () => store.clear()],
    ["keys", () => store.keys()],
  ];
}

describe("redis store while the server is down (A30, A31)", () => {
  it("every operation rejects with STORE_UNAVAILABLE within the timeout when the server refuses connections", async () => {
    const p = await proxy();
    await p.stop();
    const store = storeAt(p.url());
    for (const [name, operation] of everyOperation(store)) {
      const [error, elapsed] = await timedFailure(operation);
      expect(error.code, name).toBe("STORE_UNAVAILABLE");
      expect(error.store).toBe("redis");
      expect(error.operation).toBe(name);
      expect(error.retryable).toBe(true);
      expect(error.httpStatus).toBe(503);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 1_000);
    }
  });

  it("operations fail with STORE_UNAVAILABLE once a connected server goes away", async () => {
    const p = await proxy();
    const store = storeAt(p.url());
    const key = randomKey();
    expect(await store.set(key, makeRecord(), { ifVersion: 0 })).toBe(true);
    await p.stop();
    for (const [name, operation] of everyOperation(store)) {
      const [error, elapsed] = await timedFailure(operation);
      // The first operation may still meet the dying socket rather than a closed client.
      expect(["STORE_UNAVAILABLE", "STORE_TIMEOUT"], name).toContain(error.code);
      expect(error.operation).toBe(name);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 1_000);
    }
    const [error] = await timedFailure(() => store.get(key));
    expect(error.code).toBe("STORE_UNAVAILABLE");
  });

  it("a server that accepts but never answers gives STORE_TIMEOUT within timeout + 1s, then fast failures while the stalled connection is replaced (A30)", async () => {
    const p = await proxy();
    const store = storeAt(p.url());
    await store.get(randomKey());
    await p.hang();
    const [first, waited] = await timedFailure(() => store.get(randomKey()));
    expect(first.code).toBe("STORE_TIMEOUT");
    expect(first.retryable).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(waited).toBeLessThan(TIMEOUT_MS + 1_000);
    // The timeout dropped the stalled connection: nothing more queues on it.
    for (const [name, operation] of everyOperation(store).slice(0, 4)) {
      const [error, elapsed] = await timedFailure(operation);
      expect(["STORE_UNAVAILABLE", "STORE_TIMEOUT"], name).toContain(error.code);
      expect(error.retryable).toBe(true);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 1_000);
    }
  });

  it("the store recovers by itself when the server returns, with its data intact", async () => {
    const p = await proxy();
    const store = storeAt(p.url());
    const key = randomKey();
    const record = makeRecord({ userId: "u-recover" });
    await store.set(key, record, { ifVersion: 0 });
    await p.stop();
    const [error] = await timedFailure(() => store.get(key));
    expect(error.code).toBe("STORE_UNAVAILABLE");
    await recoveredWithData(p, store, key, record);
  });

  it("a store created while the server is down starts working when it comes up", async () => {
    const p = await proxy();
    await p.stop();
    const store = storeAt(p.url());
    const [error] = await timedFailure(() => store.get(randomKey()));
    expect(error.code).toBe("STORE_UNAVAILABLE");
    await p.resume();
    await untilRecovered(() => store.count(), 10_000);
    const key = randomKey();
    expect(await store.set(key, makeRecord(), { ifVersion: 0 })).toBe(true);
    expect(await store.get(key)).not.toBeNull();
  });

  it("a write refused during an outage never lands later, even through a client with an offline queue (A18, A24)", async () => {
    const p = await proxy();
    // ioredis defaults: offline queue on, commands re-sent after reconnecting.
    const client = new Redis(p.url());
    client.on("error", () => {});
    cleanup.push(async () => client.disconnect());
    const prefix = uniqueName("skredisfail");
    prefixes.push(prefix);
    const store = createRedisStore({ client, prefix, operationTimeoutMs: TIMEOUT_MS });
    await store.count();
    const closedOnce = new Promise((resolve) => client.once("close", resolve));
    await p.stop();
    await closedOnce;
    const key = randomKey();
    const [error] = await timedFailure(() => store.set(key, makeRecord(), { ifVersion: 0 }));
    expect(error.code).toBe("STORE_UNAVAILABLE");
    const ready = new Promise((resolve) => client.once("ready", resolve));
    await p.resume();
    await ready;
    expect(await store.get(key)).toBeNull();
    expect(await raw.exists(sessionKeyName(prefix, key))).toBe(0);
  });

  it("errors never show the password of the URL (A39)", async () => {
    const p = await proxy();
    await p.stop();
    const store = storeAt(p.url(PASSWORD));
    const [error] = await timedFailure(() => store.get(randomKey()));
    expect(error.message).not.toContain(PASSWORD);
    expect(String(error.stack)).not.toContain(PASSWORD);
  });

  it("close() of a store whose server is down resolves promptly and later calls fail typed", async () => {
    const p = await proxy();
    const store = storeAt(p.url());
    await store.count();
    await p.stop();
    const started = performance.now();
    await store.close();
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 1_000);
    const [error] = await timedFailure(() => store.get(randomKey()));
    expect(error.code).toBe("STORE_UNAVAILABLE");
  });
});

describe("redis store on a node-redis client while the server is down (A30, A31)", () => {
  /** A node-redis client through `url`, destroyed after the test; connecting is the test's business. */
  function nodeRedisAt(url: string, options: { disableOfflineQueue?: boolean } = {}) {
    const client = createClient({ url, ...options });
    cleanup.push(async () => {
      if (client.isOpen) client.destroy();
    });
    const prefix = uniqueName("skredisfail");
    prefixes.push(prefix);
    // No error listener of the test's own: the store's keeps the process alive.
    const store = createRedisStore({ client, prefix, operationTimeoutMs: TIMEOUT_MS });
    return { client, store, prefix };
  }

  it("a client that cannot make its first connection: every operation rejects with STORE_UNAVAILABLE within the timeout", async () => {
    const p = await proxy();
    await p.stop();
    const { client, store } = nodeRedisAt(p.url(), { disableOfflineQueue: true });
    client.connect().catch(() => {});
    for (const [name, operation] of everyOperation(store)) {
      const [error, elapsed] = await timedFailure(operation);
      expect(error.code, name).toBe("STORE_UNAVAILABLE");
      expect(error.operation).toBe(name);
      expect(error.retryable).toBe(true);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 1_000);
    }
  });

  it("a server that goes away: operations fail typed within the timeout, and the store recovers with the client, data intact", async () => {
    const p = await proxy();
    const { client, store } = nodeRedisAt(p.url(), { disableOfflineQueue: true });
    await client.connect();
    const key = randomKey();
    const record = makeRecord({ userId: "u-recover" });
    expect(await store.set(key, record, { ifVersion: 0 })).toBe(true);
    await p.stop();
    for (const [name, operation] of everyOperation(store)) {
      const [error, elapsed] = await timedFailure(operation);
      expect(["STORE_UNAVAILABLE", "STORE_TIMEOUT"], name).toContain(error.code);
      expect(error.retryable).toBe(true);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 1_000);
    }
    const [error] = await timedFailure(() => store.get(key));
    expect(error.code).toBe("STORE_UNAVAILABLE");
    await recoveredWithData(p, store, key, record);
  });

  it("a server that accepts but never answers gives STORE_TIMEOUT within timeout + 1s (A30)", async () => {
    const p = await proxy();
    const { client, store } = nodeRedisAt(p.url(), { disableOfflineQueue: true });
    await client.connect();
    await store.get(randomKey());
    await p.hang();
    for (const [name, operation] of everyOperation(store).slice(0, 4)) {
      const [error, elapsed] = await timedFailure(operation);
      expect(error.code, name).toBe("STORE_TIMEOUT");
      expect(error.retryable).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 1_000);
    }
  });

  it("a write refused during an outage never lands later, even through a client with its offline queue on (A18, A24)", async () => {
    const p = await proxy();
    const { client, store, prefix } = nodeRedisAt(p.url()); // node-redis default: offline queue on
    await client.connect();
    await store.count();
    const down = new Promise((resolve) => client.once("error", resolve));
    await p.stop();
    await down;
    const key = randomKey();
    const [error] = await timedFailure(() => store.set(key, makeRecord(), { ifVersion: 0 }));
    expect(error.code).toBe("STORE_UNAVAILABLE");
    await p.resume();
    await untilRecovered(() => store.count(), 10_000);
    expect(await store.get(key)).toBeNull();
    expect(await raw.exists(sessionKeyName(prefix, key))).toBe(0);
  });
});
