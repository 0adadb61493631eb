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

describeStoreConformance<RedisStore>("redis", {
  createStore() {
    const prefix = uniqueName("skredis");
    used.push(prefix);
    const store = createRedisStore({ client, prefix });
    prefixes.set(store, prefix);
    return store;
  },
  inspect: redisInspector(() => raw, sessionKey),
});
