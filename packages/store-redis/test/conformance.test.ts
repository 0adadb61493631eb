import { describeStoreConformance, getRedisUrl } from "@sessionkit/conformance";
import { createRedisStore, type RedisStore } from "@sessionkit/store-redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { prefixedStores, redisInspector, removePrefixes } from "./cleanup.js";

// One client for all stores (each with its own prefix), one for raw inspection.
let client: Redis;
let raw: Redis;
const stores = prefixedStores("skredis");

beforeAll(async () => {
  const url = await getRedisUrl();
  client = new Redis(url, { enableOfflineQueue: false, lazyConnect: true });
  raw = new Redis(url, { lazyConnect: true });
  await Promise.all([client.connect(), raw.connect()]);
});

afterAll(async () => {
  // Only keys under prefixes this file created; never FLUSHDB on a shared server.
  await removePrefixes(raw, stores.prefixes);
  await Promise.all([client.quit(), raw.quit()]);
});

// The store's expiry follows its `now` option (the app clock; Redis TTLs are
// set relative to it), so the suite's clock drives it: exact, instant expiry
// checks. The Cluster and Sentinel runs (topologies.test.ts) use the real clock.
describeStoreConformance<RedisStore>("redis", {
  createStore: ({ now }) => stores.create((prefix) => createRedisStore({ client, prefix, now })),
  clock: "suite",
  inspect: redisInspector(() => raw, stores.sessionKey),
});
