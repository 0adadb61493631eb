import { getRedisUrl, makeRecord, randomKey, uniqueName } from "@sessionkit/conformance";
import { createStoreRegistry, type SessionError } from "@sessionkit/core";
import { createRedisStore, type RedisStore, redisProvider } from "@sessionkit/store-redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keysOf, removePrefixes } from "./cleanup.js";

let redisUrl: string;
let client: Redis;
let raw: Redis;
const prefixes: string[] = [];
const stores: RedisStore[] = [];

beforeAll(async () => {
  redisUrl = await getRedisUrl();
  client = new Redis(redisUrl, { enableOfflineQueue: false, lazyConnect: true });
  raw = new Redis(redisUrl, { lazyConnect: true });
  await Promise.all([client.connect(), raw.connect()]);
});

afterAll(async () => {
  for (const store of stores) await store.close();
  await removePrefixes(raw, prefixes);
  await Promise.all([client.quit(), raw.quit()]);
});

function fresh(options: { onCorruptRecord?: (error: SessionError) => void } = {}) {
  const prefix = uniqueName("skredis");
  prefixes.push(prefix);
  const store = createRedisStore({ client, prefix, ...options });
  stores.push(store);
  return { store, prefix, key: (k: string) => `{${prefix}}:s:${k}` };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("key layout", () => {
  it("every key a store writes starts with its {prefix} hash tag and has the documented type", async () => {
    const { store, prefix } = fresh();
    const a = randomKey();
    const b = randomKey();
    await store.set(a, makeRecord({ userId: "alice" }), { ifVersion: 0 });
    await store.set(b, makeRecord(), { ifVersion: 0 });
    await store.touch(a, Date.now() + 120_000);
    const keys = await keysOf(raw, prefix);
    for (const key of keys) expect(key.startsWith(`{${prefix}}:`)).toBe(true);
    const types = Object.fromEntries(
      await Promise.all(
        keys.map(async (key) => [key.slice(prefix.length + 3), await raw.type(key)]),
      ),
    );
    expect(types).toEqual({
      e: "zset",
      k: "zset",
      [`s:${a}`]: "hash",
      [`s:${b}`]: "hash",
      // SHA-1 of "alice", as the Lua scripts derive it.
      "u:522b276a356bdf39013dfabea2cd43e141ecc9e8": "set",
    });
  });

  it("a record is a hash of p, e, c, v and u, with PEXPIREAT at expiresAt (A31)", async () => {
    const { store, key } = fresh();
    const k = randomKey();
    const record = makeRecord({ userId: "bob", version: 7 }, 45_000);
    await store.set(k, record, { ifVersion: 0 });
    expect(await raw.hgetall(key(k))).toEqual({
      p: record.payload,
      e: String(record.expiresAt),
      c: String(record.createdAt),
      v: "7",
      u: "bob",
    });
    expect(await raw.pexpiretime(key(k))).toBe(record.expiresAt);
  });

  it("set(key, record) without userId drops the u field of the record it replaces", async () => {
    const { store, key } = fresh();
    const k = randomKey();
    const record = makeRecord({ userId: "carol" });
    await store.set(k, record, { ifVersion: 0 });
    const { userId: _dropped, ...anonymous } = record;
    await store.set(k, { ...anonymous, version: 2 }, { ifVersion: 1 });
    expect(await raw.hexists(key(k), "u")).toBe(0);
    expect(await store.listByUser("carol")).toEqual([]);
  });
});

describe("user index", () => {
  it("the user set expires with the user's longest-lived session and follows touch()", async () => {
    const { store, prefix } = fresh();
    const userKey = `{${prefix}}:u:522b276a356bdf39013dfabea2cd43e141ecc9e8`;
    const short = makeRecord({ userId: "alice" }, 20_000);
    const long = makeRecord({ userId: "alice" }, 50_000);
    const k = randomKey();
    await store.set(randomKey(), long, { ifVersion: 0 });
    await store.set(k, short, { ifVersion: 0 });
    expect(await raw.pexpiretime(userKey)).toBe(long.expiresAt);
    await store.touch(k, long.expiresAt + 30_000);
    expect(await raw.pexpiretime(userKey)).toBe(long.expiresAt + 30_000);
  });

  it("changing a record's userId moves it to the new user's index at once", async () => {
    const { store, prefix } = fresh();
    const k = randomKey();
    const record = makeRecord({ userId: "alice" });
    await store.set(k, record, { ifVersion: 0 });
    await store.set(k, { ...record, userId: "bob", version: 2 }, { ifVersion: 1 });
    expect(await raw.smembers(`{${prefix}}:u:522b276a356bdf39013dfabea2cd43e141ecc9e8`)).toEqual(
      [],
    );
    expect((await store.listByUser("bob")).map((s) => s.key)).toEqual([k]);
  });

  it("listByUser(userId) rejects a user id that could alias another (lone surrogate) with a TypeError", async () => {
    const { store } = fresh();
    await expect(store.listByUser("a\uD800")).rejects.toBeInstanceOf(TypeError);
    await expect(store.destroyByUser("")).rejects.toBeInstanceOf(TypeError);
  });
});

describe("indexes and expiry", () => {
  it("count() leaves out expired sessions even before their index entries are pruned", async () => {
    const { store, prefix } = fresh();
    await store.set(randomKey(), makeRecord({}, 50), { ifVersion: 0 });
    await store.set(randomKey(), makeRecord(), { ifVersion: 0 });
    await sleep(120);
    expect(await raw.zcard(`{${prefix}}:k`)).toBe(2);
    expect(await store.count()).toBe(1);
  });

  it("index entries of expired sessions are pruned by the next write", async () => {
    const { store, prefix } = fresh();
    for (let i = 0; i < 5; i++) await store.set(randomKey(), makeRecord({}, 50), { ifVersion: 0 });
    await sleep(120);
    const live = randomKey();
    await store.set(live, makeRecord(), { ifVersion: 0 });
    expect(await raw.zrange(`{${prefix}}:k`, 0, -1)).toEqual([live]);
    expect(await raw.zrange(`{${prefix}}:e`, 0, -1)).toEqual([live]);
  });

  it("get(key) never returns a record whose expiresAt has passed by the app clock", async () => {
    const { store, key } = fresh();
    const k = randomKey();
    const record = makeRecord({}, 60_000);
    await store.set(k, record, { ifVersion: 0 });
    // Simulate a Redis clock running behind: the key lives on, expiresAt is past.
    await raw.hset(key(k), "e", String(Date.now() - 1));
    expect(await store.get(k)).toBeNull();
  });
});

describe("corrupt or foreign records (A29)", () => {
  it("get(key) of a malformed hash returns null and reports it without the key", async () => {
    const reports: SessionError[] = [];
    const { store, key } = fresh({ onCorruptRecord: (error) => reports.push(error) });
    const k = randomKey();
    await raw.hset(key(k), { p: "x", e: "soon", c: "1", v: "1" });
    expect(await store.get(k)).toBeNull();
    expect(reports).toHaveLength(1);
    expect(reports[0]?.code).toBe("STORE_ERROR");
    expect(reports[0]?.message).not.toContain(k);
  });

  it("get(key) of a value of another type returns null and reports it", async () => {
    const reports: SessionError[] = [];
    const { store, key } = fresh({ onCorruptRecord: (error) => reports.push(error) });
    const k = randomKey();
    await raw.set(key(k), '{"user":"admin"}', "PX", 60_000);
    expect(await store.get(k)).toBeNull();
    expect(reports).toHaveLength(1);
    // destroy() still removes it, and a create then succeeds.
    await store.destroy(k);
    expect(await store.set(k, makeRecord(), { ifVersion: 0 })).toBe(true);
  });
});

describe("rename", () => {
  it("rename(old, new) rejects when new is taken and changes nothing", async () => {
    const { store } = fresh();
    const [oldKey, newKey] = [randomKey(), randomKey()];
    const a = makeRecord({ payload: '"a"' });
    const b = makeRecord({ payload: '"b"' });
    await store.set(oldKey, a, { ifVersion: 0 });
    await store.set(newKey, b, { ifVersion: 0 });
    await expect(store.rename(oldKey, newKey, a)).rejects.toBeInstanceOf(TypeError);
    expect((await store.get(oldKey))?.payload).toBe('"a"');
    expect((await store.get(newKey))?.payload).toBe('"b"');
  });
});

describe("arguments", () => {
  it("keys() rejects a bad limit or a forged cursor with a TypeError", async () => {
    const { store } = fresh();
    await expect(store.keys({ limit: 0 })).rejects.toBeInstanceOf(TypeError);
    await expect(store.keys({ limit: 1_001 })).rejects.toBeInstanceOf(TypeError);
    await expect(store.keys({ cursor: "+" })).rejects.toBeInstanceOf(TypeError);
  });

  it("set() without a valid ifVersion and touch() without a valid expiresAt throw TypeError", async () => {
    const { store } = fresh();
    await expect(store.set(randomKey(), makeRecord(), { ifVersion: -1 })).rejects.toBeInstanceOf(
      TypeError,
    );
    await expect(store.touch(randomKey(), Number.NaN)).rejects.toBeInstanceOf(TypeError);
  });

  it("createRedisStore(options) rejects bad options with a TypeError", () => {
    expect(() => createRedisStore({ client, prefix: "a{b}" })).toThrow(TypeError);
    expect(() => createRedisStore({ client, prefix: "" })).toThrow(TypeError);
    expect(() => createRedisStore({ client, commandTimeoutMs: 0 })).toThrow(TypeError);
    expect(() => createRedisStore({} as never)).toThrow(TypeError);
    expect(() => createRedisStore({ client, url: redisUrl } as never)).toThrow(TypeError);
  });

  it("a malformed URL fails with INVALID_CONFIG and never echoes the URL's password", () => {
    const bad = [
      "http://:pw-secret-1@127.0.0.1",
      "redis://:pw-secret-1@",
      "redis://:pw-secret-1@h1:1,h2:2",
      "redis://:pw-secret-1@127.0.0.1/notadb",
      "redis://:pw-secret-1@127.0.0.1?password=pw-secret-1",
      "redis+sentinel://:pw-secret-1@127.0.0.1:26379",
    ];
    for (const url of bad) {
      let caught: unknown;
      try {
        createRedisStore({ url });
      } catch (error) {
        caught = error;
      }
      expect(caught, url).toMatchObject({ name: "SessionError", code: "INVALID_CONFIG" });
      expect((caught as Error).message).not.toContain("pw-secret-1");
    }
  });
});

describe("ownership and the provider", () => {
  it("close() leaves a client passed in open", async () => {
    const { store } = fresh();
    await store.close();
    expect(client.status).toBe("ready");
    await expect(store.get(randomKey())).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
  });

  it("registry.open(url) opens a store with the URL's prefix, and close() ends its own client", async () => {
    const registry = createStoreRegistry().register(redisProvider);
    const prefix = uniqueName("skredis");
    prefixes.push(prefix);
    const store = (await registry.open(`${redisUrl}?prefix=${prefix}`)) as RedisStore;
    expect(store.name).toBe("redis");
    const k = randomKey();
    await store.set(k, makeRecord(), { ifVersion: 0 });
    expect(await raw.exists(`{${prefix}}:s:${k}`)).toBe(1);
    await store.close();
    await expect(store.get(k)).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect(redisProvider.schemes).toEqual(["redis", "rediss", "redis+sentinel", "redis+cluster"]);
  });
});

describe("round trips", () => {
  it("each operation is one round trip once its script is loaded", async () => {
    const prefix = uniqueName("skredis");
    prefixes.push(prefix);
    const counted = new Redis(redisUrl, { enableOfflineQueue: false, lazyConnect: true });
    await counted.connect();
    const store = createRedisStore({ client: counted, prefix });
    const sent: string[] = [];
    const original = counted.sendCommand.bind(counted);
    counted.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      sent.push(command.name);
      return (original as (...args: unknown[]) => unknown)(command, ...rest);
    }) as typeof counted.sendCommand;
    const k = randomKey();
    const record = makeRecord({ userId: "rt" });
    const operations: [string, () => Promise<unknown>][] = [
      ["set", () => store.set(k, record, { ifVersion: 0 })],
      ["get", () => store.get(k)],
      ["touch", () => store.touch(k, Date.now() + 90_000)],
      ["listByUser", () => store.listByUser("rt")],
      ["count", () => store.count()],
      ["keys", () => store.keys()],
      ["rename", () => store.rename(k, randomKey(), record)],
      ["destroyByUser", () => store.destroyByUser("rt")],
      ["destroy", () => store.destroy(k)],
    ];
    // Warm-up: the first use of each script may add an EVAL after NOSCRIPT.
    for (const [, operation] of operations) await operation();
    for (const [name, operation] of operations) {
      sent.length = 0;
      await operation();
      expect(sent, name).toHaveLength(1);
    }
    await counted.quit();
  });
});

describe("error listener (A31)", () => {
  it("a store adds exactly one error listener to a client passed in, however many stores share it", async () => {
    const shared = new Redis(redisUrl, { lazyConnect: true });
    const theirs = () => {};
    shared.on("error", theirs);
    const before = shared.listenerCount("error");
    createRedisStore({ client: shared, prefix: uniqueName("skredis") });
    createRedisStore({ client: shared, prefix: uniqueName("skredis") });
    expect(shared.listenerCount("error")).toBe(before + 1);
    expect(shared.listeners("error")).toContain(theirs);
    shared.disconnect();
  });
});
