import { describeStoreConformance, getRedisUrl, uniqueName } from "@sessionkit/conformance";
import type { SessionStore } from "@sessionkit/core";
import { createRedisStore, type RedisStore } from "@sessionkit/store-redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { redisInspector, removePrefixes, sessionKeyName } from "./cleanup.js";

// One client for all stores (each with its own prefix), one for raw inspection.
let client: Redis;
let raw: Redis;
const prefixes = new WeakMap<SessionStore, string>();
const used: string[] = [];

beforeAll(async () => {
  const url = await getRedisUrl();
  client = new Redis(url, { enableOfflineQueue: false, lazyConnect: true });
  raw = new Redis(url, { lazyConnect: true });
  await Promise.all([client.connect(), raw.connect()]);
});

afterAll(async () => {
  // Only keys under prefixes this file created; never FLUSHDB on a shared server.
  await removePrefixes(raw, used);
  await Promise.all([client.quit(), raw.quit()]);
});

const sessionKey = (store: SessionStore, key: string): string => {
  const prefix = prefixes.get(store);
  if (prefix === undefined) throw new Error("store not created by this file");
  return sessionKeyName(prefix, key);
};

// The store's expiry follows its `now` option (the app clock; Redis TTLs are
// set relative to it), so the suite's clock drives it: exact, instant expiry
// checks. The Cluster and Sentinel runs (topologies.test.ts) use the real clock.
describeStoreConformance<RedisStore>("redis", {
  createStore({ now }) {
    const prefix = uniqueName("skredis");
    used.push(prefix);
    const store = createRedisStore({ client, prefix, now });
    prefixes.set(store, prefix);
    return store;
  },
  clock: "suite",
  inspect: redisInspector(() => raw, sessionKey),
});
