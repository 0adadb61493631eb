import { tracingChannel } from "node:diagnostics_channel";
import {
  describeStoreConformance,
  getRedisUrl,
  makeRecord,
  randomKey,
} from "@sessionkit/conformance";
import {
  createRedisStore,
  type RedisStore,
  type RedisStoreClientOptions,
} from "@sessionkit/store-redis";
import { Redis } from "ioredis";
import { createClient, createCluster, createSentinel, RESP_TYPES } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prefixedStores, redisInspector, removePrefixes } from "./cleanup.js";

// The same store on a node-redis 5 client instead of ioredis: the whole
// contract (conformance suite), and what differs between the clients (reply
// types, readiness, ownership). Cluster and Sentinel: topologies.test.ts;
// outages: failure.test.ts.

let url: string;
let client: ReturnType<typeof createClient>;
let raw: Redis;
const stores = prefixedStores("sknoderedis");

beforeAll(async () => {
  url = await getRedisUrl();
  client = createClient({ url, disableOfflineQueue: true });
  raw = new Redis(url, { lazyConnect: true });
  await Promise.all([client.connect(), raw.connect()]);
});

afterAll(async () => {
  await removePrefixes(raw, stores.prefixes);
  await Promise.all([client.close(), raw.quit()]);
});

/** A store on `on`, a node-redis client: it type-checks only if node-redis's types fit the option. */
function storeOn(on: RedisStoreClientOptions["client"]): RedisStore {
  return stores.create((prefix) => createRedisStore({ client: on, prefix }));
}

describeStoreConformance<RedisStore>("redis (node-redis)", {
  createStore: ({ now }) => stores.create((prefix) => createRedisStore({ client, prefix, now })),
  clock: "suite",
  inspect: redisInspector(() => raw, stores.sessionKey),
});

describe("node-redis client", () => {
  it("a RESP3 client mapping strings to Buffers and maps to Map: the store reads and writes as with the defaults", async () => {
    const mapped = createClient({ url, RESP: 3 }).withTypeMapping({
      [RESP_TYPES.BLOB_STRING]: Buffer,
      [RESP_TYPES.SIMPLE_STRING]: Buffer,
      [RESP_TYPES.MAP]: Map,
    });
    await mapped.connect();
    try {
      const store = storeOn(mapped);
      const key = randomKey();
      const record = makeRecord({ userId: "resp3" });
      expect(await store.set(key, record, { ifVersion: 0 })).toBe(true);
      expect(await store.get(key)).toEqual(record);
      expect(await store.set(key, { ...record, version: 2 }, { ifVersion: 1 })).toBe(true);
      expect((await store.get(key))?.version).toBe(2);
      expect(await store.listByUser("resp3")).toEqual([{ key, record: { ...record, version: 2 } }]);
      expect(await store.keys()).toEqual({ keys: [key], cursor: null });
      expect(await store.count()).toBe(1);
      // The caller's mapping is untouched: their own reads still get Buffers.
      expect(await mapped.hGet(stores.sessionKey(store, key), "v")).toEqual(Buffer.from("2"));
    } finally {
      await mapped.close();
    }
  });

  it("a read is one HGETALL and an update one EVALSHA, as with ioredis (counted on node-redis's command tracing channel)", async () => {
    const store = storeOn(client);
    const key = randomKey();
    const record = makeRecord();
    await store.set(key, record, { ifVersion: 0 });
    await store.set(key, { ...record, version: 2 }, { ifVersion: 1 }); // scripts loaded
    const sent: string[] = [];
    const channel = tracingChannel<unknown, { command: string }>("node-redis:command");
    const start = (context: { command: string }) => sent.push(context.command);
    channel.subscribe({ start, end() {}, asyncStart() {}, asyncEnd() {}, error() {} });
    try {
      expect((await store.get(key))?.version).toBe(2);
      expect(sent).toEqual(["HGETALL"]);
      sent.length = 0;
      expect(await store.set(key, { ...record, version: 3 }, { ifVersion: 2 })).toBe(true);
      expect(sent).toEqual(["EVALSHA"]);
    } finally {
      channel.unsubscribe({ start, end() {}, asyncStart() {}, asyncEnd() {}, error() {} });
    }
  });

  it("close() leaves the client open; a client closed by its owner fails operations with STORE_UNAVAILABLE", async () => {
    const own = createClient({ url });
    await own.connect();
    const store = storeOn(own);
    const key = randomKey();
    expect(await store.set(key, makeRecord(), { ifVersion: 0 })).toBe(true);
    await store.close();
    expect(own.isReady).toBe(true);
    await own.close();
    const other = storeOn(own);
    await expect(other.get(key)).rejects.toMatchObject({
      name: "SessionError",
      code: "STORE_UNAVAILABLE",
      retryable: true,
      message: expect.stringMatching(/call connect\(\)/),
    });
  });

  it("a client whose connect() is still under way: the first operations wait for it (A30)", async () => {
    const late = createClient({ url });
    const connecting = late.connect();
    const store = storeOn(late);
    expect(late.isReady).toBe(false);
    const key = randomKey();
    expect(await store.set(key, makeRecord(), { ifVersion: 0 })).toBe(true);
    expect(await store.get(key)).not.toBeNull();
    await connecting;
    await late.close();
  });

  it("a store adds exactly one error listener to a client, however many stores share it (A31)", async () => {
    const shared = createClient({ url });
    const theirs = () => {};
    shared.on("error", theirs);
    const before = shared.listenerCount("error");
    storeOn(shared);
    storeOn(shared);
    expect(shared.listenerCount("error")).toBe(before + 1);
    expect(shared.listeners("error")).toContain(theirs);
  });

  it("an object shaped like only part of a node-redis client is INVALID_CONFIG", () => {
    const partial = { isOpen: true, hGetAll() {}, evalSha() {}, on() {}, off() {} }; // no eval
    expect(() => createRedisStore({ client: partial as never })).toThrow(
      expect.objectContaining({
        name: "SessionError",
        code: "INVALID_CONFIG",
        message: expect.stringMatching(/node-redis 5 client, cluster or sentinel/),
      }),
    );
  });

  it("a node-redis Cluster or Sentinel not connected yet is accepted (its types too) and fails operations with STORE_UNAVAILABLE", async () => {
    const clients = [
      createCluster({ rootNodes: [{ url }] }),
      createSentinel({ name: "sknoderedis", sentinelRootNodes: [{ host: "127.0.0.1", port: 1 }] }),
    ];
    for (const unopened of clients) {
      const store = storeOn(unopened);
      await expect(store.get(randomKey())).rejects.toMatchObject({
        code: "STORE_UNAVAILABLE",
        message: expect.stringMatching(/call connect\(\)/),
      });
    }
  });
});
