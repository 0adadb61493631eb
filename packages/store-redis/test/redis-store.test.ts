import { createHash } from "node:crypto";
import { once } from "node:events";
import { getRedisUrl, makeRecord, randomKey, uniqueName, waitUntil } from "@sessionkit/conformance";
import { createStoreRegistry, type SessionError, type SessionRecord } from "@sessionkit/core";
import type { StoreErrorContext } from "@sessionkit/core/store";
import {
  createRedisStore,
  parseRedisUrl,
  type RedisStore,
  type RedisStoreCommonOptions,
  redisProvider,
} from "@sessionkit/store-redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketTags, keySlot } from "../src/layout.js";
import {
  bucketIndexName,
  keysOf,
  removePrefixes,
  sessionKeyName,
  userIndexName,
} from "./cleanup.js";
import { countWrites } from "./socket-writes.js";

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

function fresh(options: Pick<RedisStoreCommonOptions, "onError" | "now"> = {}) {
  const prefix = uniqueName("skredis");
  prefixes.push(prefix);
  const store = createRedisStore({ client, prefix, ...options });
  stores.push(store);
  return {
    store,
    prefix,
    key: (k: string) => sessionKeyName(prefix, k),
    userKey: (userId: string) => userIndexName(prefix, userId),
  };
}

/** A clock the test moves by hand, starting at the real time plus `offsetMs`. */
function manualClock(offsetMs = 0) {
  let at = Date.now() + offsetMs;
  return {
    now: () => at,
    advance(ms: number) {
      at += ms;
    },
  };
}

/** An `onError` that keeps what it is told. */
function reporter() {
  const reports: { error: SessionError; context: StoreErrorContext }[] = [];
  return {
    reports,
    onError: (error: SessionError, context: StoreErrorContext) => {
      reports.push({ error, context });
    },
  };
}

/** A random store key in bucket `hex` (two hex digits). */
const keyInBucket = (hex: string) => hex + randomKey().slice(2);

/** A record on the clock `now`: created now, expiring `ttlMs` later. */
function recordAt(now: number, overrides: Partial<SessionRecord> = {}, ttlMs = 60_000) {
  return makeRecord({ createdAt: now, expiresAt: now + ttlMs, ...overrides });
}

describe("key layout", () => {
  it("every key a store writes starts with <prefix>: and has the documented type", async () => {
    const { store, prefix } = fresh();
    const a = keyInBucket("00");
    const b = keyInBucket("ff");
    await store.set(a, makeRecord({ userId: "alice" }), { ifVersion: 0 });
    await store.set(b, makeRecord(), { ifVersion: 0 });
    await store.touch(a, Date.now() + 120_000);
    const keys = await keysOf(raw, prefix);
    const types = Object.fromEntries(
      await Promise.all(
        keys.map(async (key) => [key.slice(prefix.length + 1), await raw.type(key)]),
      ),
    );
    const [first, last] = [bucketTags()[0], bucketTags()[255]];
    expect(types).toEqual({
      [`{${first}}:s:${a}`]: "hash",
      [`{${first}}:k`]: "zset",
      [`{${first}}:e`]: "zset",
      [`{${last}}:s:${b}`]: "hash",
      [`{${last}}:k`]: "zset",
      [`{${last}}:e`]: "zset",
      // The documented layout names a user's index by the hex SHA-1 of the user id.
      [`{u:${createHash("sha1").update("alice").digest("hex")}}`]: "zset",
    });
  });

  it("the 256 bucket tags are distinct and bucket b hashes to a slot in [64·b, 64·b + 63]", () => {
    const tags = bucketTags();
    expect(new Set(tags).size).toBe(256);
    for (const [b, tag] of tags.entries()) {
      expect(Math.floor(keySlot(`x:{${tag}}:s:y`) / 64), `bucket ${b}`).toBe(b);
    }
    // Reference values of Redis Cluster's CRC16 slot function (the Cluster test asks the server too).
    expect(keySlot("foo")).toBe(12182);
    expect(keySlot("123456789")).toBe(12739);
    expect(keySlot("a{foo}b")).toBe(12182);
  });

  it("a record is a hash of p, e, c, v, u and i, with a relative TTL of expiresAt − now (A31)", async () => {
    const clock = manualClock();
    const { store, key } = fresh({ now: clock.now });
    const k = randomKey();
    const record = recordAt(clock.now(), { userId: "bob", version: 7 }, 45_000);
    await store.set(k, record, { ifVersion: 0 });
    expect(await raw.hgetall(key(k))).toEqual({
      p: record.payload,
      e: String(record.expiresAt),
      c: String(record.createdAt),
      v: "7",
      u: "bob",
      // The user index score: expiresAt plus the time left (at least a minute).
      i: String(record.expiresAt + 60_000),
    });
    const ttl = await raw.pttl(key(k));
    expect(ttl).toBeGreaterThan(40_000);
    expect(ttl).toBeLessThanOrEqual(45_000);
  });

  it("set(key, record) without userId drops the u and i fields of the record it replaces", async () => {
    const { store, key } = fresh();
    const k = randomKey();
    const record = makeRecord({ userId: "carol" });
    await store.set(k, record, { ifVersion: 0 });
    const { userId: _dropped, ...anonymous } = record;
    await store.set(k, { ...anonymous, version: 2 }, { ifVersion: 1 });
    expect(Object.keys(await raw.hgetall(key(k))).sort()).toEqual(["c", "e", "p", "v"]);
    expect(await store.listByUser("carol")).toEqual([]);
  });
});

describe("updates in place", () => {
  it("an update overwrites the session hash; dropping the owner leaves no u or i field behind", async () => {
    const { store, key } = fresh();
    const k = randomKey();
    const fields = async () => (await raw.hkeys(key(k))).sort();
    await store.set(k, makeRecord({ userId: "olga", version: 1 }), { ifVersion: 0 });
    expect(await fields()).toEqual(["c", "e", "i", "p", "u", "v"]);
    await store.set(k, makeRecord({ userId: "olga", version: 2, payload: '{"d":{"a":1}}' }), {
      ifVersion: 1,
    });
    expect(await fields()).toEqual(["c", "e", "i", "p", "u", "v"]);
    expect(await raw.hget(key(k), "p")).toBe('{"d":{"a":1}}');
    await store.set(k, makeRecord({ version: 3 }), { ifVersion: 2 });
    expect(await fields()).toEqual(["c", "e", "p", "v"]);
    expect((await store.get(k))?.userId).toBeUndefined();
    await store.set(k, makeRecord({ version: 4 }), { ifVersion: 3 });
    expect(await fields()).toEqual(["c", "e", "p", "v"]);
    expect(await raw.pttl(key(k))).toBeGreaterThan(0);
  });

  it("an update that keeps expiresAt leaves the TTL and the expiry index entry; one that moves it or replaces the hash sets both (A31)", async () => {
    const clock = manualClock();
    const { store, prefix, key } = fresh({ now: clock.now });
    const k = randomKey();
    const first = recordAt(clock.now(), {}, 45_000);
    const score = async () => Number(await raw.zscore(bucketIndexName(prefix, k, "e"), k));
    // Marks the TTL and the entry's score, so a write that sets either shows.
    const mark = async () => {
      await raw.pexpire(key(k), 1_000_000);
      await raw.zadd(bucketIndexName(prefix, k, "e"), first.expiresAt + 7, k);
    };
    const ttlSet = async (expiresAt: number) => {
      const ttl = await raw.pttl(key(k));
      expect(ttl).toBeGreaterThan(expiresAt - clock.now() - 5_000);
      expect(ttl).toBeLessThanOrEqual(expiresAt - clock.now());
      expect(await score()).toBe(expiresAt);
    };
    await store.set(k, first, { ifVersion: 0 });
    await ttlSet(first.expiresAt);
    let version = 1;
    const update = async (overrides: Partial<SessionRecord>) => {
      const next = makeRecord({ ...first, version: version + 1, ...overrides });
      expect(await store.set(k, next, { ifVersion: version })).toBe(true);
      version++;
      expect(await store.get(k)).toEqual(next);
    };

    clock.advance(1_000);
    await mark();
    await update({ payload: '{"d":{"a":1}}' });
    expect(await raw.pttl(key(k))).toBeGreaterThan(900_000);
    expect(await score()).toBe(first.expiresAt + 7);

    await update({ payload: '{"d":{"a":2}}', expiresAt: first.expiresAt + 5_000 });
    await ttlSet(first.expiresAt + 5_000);

    // An owner coming or going replaces the hash, which takes the TTL with it.
    for (const userId of ["olga", undefined]) {
      await mark();
      await update({ expiresAt: first.expiresAt + 5_000, userId });
      await ttlSet(first.expiresAt + 5_000);
    }
  });
});

describe("user index", () => {
  it("set(key, record) writes the user's index entry with a score past expiresAt, and the index lives as long as its highest score", async () => {
    const clock = manualClock();
    const { store, userKey } = fresh({ now: clock.now });
    const k = randomKey();
    const long = recordAt(clock.now(), { userId: "alice" }, 3_600_000);
    await store.set(k, long, { ifVersion: 0 });
    expect(Number(await raw.zscore(userKey("alice"), k))).toBe(long.expiresAt + 3_600_000);
    const ttl = await raw.pttl(userKey("alice"));
    expect(ttl).toBeGreaterThan(7_190_000);
    expect(ttl).toBeLessThanOrEqual(7_200_000);
  });

  it("touch(key) past the entry's score raises the entry first, then the session", async () => {
    const clock = manualClock();
    const { store, key, userKey } = fresh({ now: clock.now });
    const k = randomKey();
    const record = recordAt(clock.now(), { userId: "alice" }, 10_000);
    await store.set(k, record, { ifVersion: 0 });
    const score = Number(await raw.zscore(userKey("alice"), k));
    expect(score).toBe(record.expiresAt + 60_000);
    // Within the score: nothing to raise.
    expect(await store.touch(k, score)).toBe(true);
    expect(Number(await raw.zscore(userKey("alice"), k))).toBe(score);
    // Past it: the entry is raised before the session is extended.
    const later = clock.now() + 600_000;
    expect(await store.touch(k, later)).toBe(true);
    expect(Number(await raw.zscore(userKey("alice"), k))).toBe(later + 600_000);
    expect(await raw.hget(key(k), "i")).toBe(String(later + 600_000));
    expect(await raw.hget(key(k), "e")).toBe(String(later));
  });

  it("index entries are removed once their score has passed, by the next index write", async () => {
    const clock = manualClock();
    const { store, userKey } = fresh({ now: clock.now });
    const early = randomKey();
    await store.set(early, recordAt(clock.now(), { userId: "alice" }, 1_000), { ifVersion: 0 });
    clock.advance(62_000);
    const late = randomKey();
    await store.set(late, recordAt(clock.now(), { userId: "alice" }), { ifVersion: 0 });
    expect(await raw.zrange(userKey("alice"), 0, -1)).toEqual([late]);
  });

  it("changing a record's userId lists it under the new user only", async () => {
    const { store } = fresh();
    const k = randomKey();
    const record = makeRecord({ userId: "alice" });
    await store.set(k, record, { ifVersion: 0 });
    await store.set(k, { ...record, userId: "bob", version: 2 }, { ifVersion: 1 });
    expect(await store.listByUser("alice")).toEqual([]);
    expect((await store.listByUser("bob")).map((s) => s.key)).toEqual([k]);
    expect(await store.destroyByUser("alice")).toBe(0);
    expect(await store.get(k)).not.toBeNull();
  });

  it("under concurrent owner changes, touches and listings every live session stays listed under its owner", async () => {
    const { store } = fresh();
    const owners = ["alice", "bob", "carol"];
    const keys = Array.from({ length: 8 }, randomKey);
    for (const key of keys) {
      await store.set(key, makeRecord({ userId: "alice" }, 20_000), { ifVersion: 0 });
    }
    const reassign = async (key: string, round: number): Promise<void> => {
      for (;;) {
        const current = await store.get(key);
        if (current === null) throw new Error("record vanished");
        const next = {
          ...current,
          userId: owners[(round + current.version) % owners.length],
          // Each write moves expiry well past the index entry's score half the time.
          expiresAt: Date.now() + (current.version % 2 === 0 ? 20_000 : 400_000),
          version: current.version + 1,
        };
        if (await store.set(key, next, { ifVersion: current.version })) return;
      }
    };
    await Promise.all([
      ...keys.flatMap((key) => Array.from({ length: 6 }, (_, round) => reassign(key, round))),
      ...keys.map((key) => store.touch(key, Date.now() + 900_000)),
      ...owners.map((owner) => store.listByUser(owner)),
    ]);
    for (const key of keys) {
      const record = (await store.get(key)) as SessionRecord;
      expect(record.version).toBe(7);
      const listed = await store.listByUser(record.userId as string);
      expect(listed.map((s) => s.key)).toContain(key);
      for (const other of owners.filter((owner) => owner !== record.userId)) {
        expect((await store.listByUser(other)).map((s) => s.key)).not.toContain(key);
      }
    }
    const aliceHas = (await Promise.all(keys.map((key) => store.get(key)))).filter(
      (record) => record?.userId === "alice",
    ).length;
    expect(await store.destroyByUser("alice")).toBe(aliceHas);
  });
});

describe("indexes and expiry", () => {
  it("count() leaves out expired sessions even before their index entries are pruned", async () => {
    const clock = manualClock();
    const { store, prefix } = fresh({ now: clock.now });
    const expiring = keyInBucket("3c");
    await store.set(expiring, recordAt(clock.now(), {}, 1_000), { ifVersion: 0 });
    await store.set(keyInBucket("3c"), recordAt(clock.now()), { ifVersion: 0 });
    clock.advance(1_000);
    expect(await raw.zcard(bucketIndexName(prefix, expiring, "k"))).toBe(2);
    expect(await store.count()).toBe(1);
  });

  it("index entries of expired sessions are pruned by the next create in their bucket", async () => {
    const clock = manualClock();
    const { store, prefix, key } = fresh({ now: clock.now });
    const expired = Array.from({ length: 5 }, () => keyInBucket("7a"));
    for (const k of expired) {
      await store.set(k, recordAt(clock.now(), {}, 1_000), { ifVersion: 0 });
    }
    clock.advance(1_000);
    const live = keyInBucket("7a");
    await store.set(live, recordAt(clock.now()), { ifVersion: 0 });
    expect(await raw.zrange(bucketIndexName(prefix, live, "k"), 0, -1)).toEqual([live]);
    expect(await raw.zrange(bucketIndexName(prefix, live, "e"), 0, -1)).toEqual([live]);
    // Expired on the app clock: the records go too, even though Redis still had them.
    for (const k of expired) expect(await raw.exists(key(k))).toBe(0);
  });

  it("get(key) never returns a record whose expiresAt has passed by the app clock, and deletes it", async () => {
    const { store, key } = fresh();
    const k = randomKey();
    const record = makeRecord({}, 60_000);
    await store.set(k, record, { ifVersion: 0 });
    // A record whose expiresAt has passed while the key lives on.
    await raw.hset(key(k), "e", String(Date.now() - 1));
    expect(await store.get(k)).toBeNull();
    expect(await raw.exists(key(k))).toBe(0);
  });

  it("keys() pages in key order across buckets, one key per page", async () => {
    const { store } = fresh();
    const keys = ["00", "01", "7f", "80", "fe", "ff"].map(keyInBucket).sort();
    for (const key of keys) await store.set(key, makeRecord(), { ifVersion: 0 });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { keys: readonly string[]; cursor: string | null } = await store.keys({
        cursor,
        limit: 1,
      });
      seen.push(...page.keys);
      cursor = page.cursor;
    } while (cursor !== null);
    expect(seen).toEqual(keys);
  });
});

describe("one clock: the application's (A20)", () => {
  for (const [label, skewMs] of [
    ["2 h behind", -7_200_000],
    ["5 s behind", -5_000],
    ["5 s ahead of", 5_000],
    ["2 h ahead of", 7_200_000],
  ] as const) {
    it(`with the app clock ${label} Redis, every write is stored with a TTL of exactly its lifetime`, async () => {
      const now = () => Date.now() + skewMs;
      const { store, key, userKey } = fresh({ now });
      const k = randomKey();
      const record = recordAt(now(), { userId: "skewed" }, 60_000);
      expect(await store.set(k, record, { ifVersion: 0 })).toBe(true);
      expect(await store.get(k)).toEqual(record);
      const ttl = await raw.pttl(key(k));
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      const userTtl = await raw.pttl(userKey("skewed"));
      expect(userTtl).toBeGreaterThan(115_000);
      expect(userTtl).toBeLessThanOrEqual(120_000);

      const updated = { ...record, payload: '"updated"', version: 2, expiresAt: now() + 90_000 };
      expect(await store.set(k, updated, { ifVersion: 1 })).toBe(true);
      expect((await store.get(k))?.payload).toBe('"updated"');
      expect(await raw.pttl(key(k))).toBeGreaterThan(85_000);

      expect(await store.touch(k, now() + 300_000)).toBe(true);
      expect(await raw.pttl(key(k))).toBeGreaterThan(295_000);
      expect(await raw.pttl(key(k))).toBeLessThanOrEqual(300_000);

      const moved = randomKey();
      expect(await store.rename(k, moved, { ...updated, version: 3 })).toBe(true);
      expect((await store.get(moved))?.version).toBe(3);
      expect(await raw.pttl(key(moved))).toBeGreaterThan(85_000);
      expect((await store.listByUser("skewed")).map((s) => s.key)).toEqual([moved]);
      expect(await store.count()).toBe(1);
    });
  }

  it("set(key, record) whose expiresAt is not after the app clock deletes the record and answers true", async () => {
    const clock = manualClock(-7_200_000);
    const { store, key } = fresh({ now: clock.now });
    const k = randomKey();
    const record = recordAt(clock.now());
    await store.set(k, record, { ifVersion: 0 });
    expect(
      await store.set(k, { ...record, version: 2, expiresAt: clock.now() }, { ifVersion: 1 }),
    ).toBe(true);
    expect(await raw.exists(key(k))).toBe(0);
    expect(await store.count()).toBe(0);
  });

  it("a record past expiresAt on the app clock is gone for every operation, though Redis still holds it", async () => {
    const clock = manualClock();
    const { store, key } = fresh({ now: clock.now });
    const k = randomKey();
    const record = recordAt(clock.now(), {}, 60_000);
    await store.set(k, record, { ifVersion: 0 });
    clock.advance(60_000);
    expect(await store.set(k, { ...record, version: 2 }, { ifVersion: 1 })).toBe(false);
    expect(await raw.exists(key(k))).toBe(0);
    await store.set(k, recordAt(clock.now(), {}, 1_000), { ifVersion: 0 });
    clock.advance(1_000);
    expect(await raw.exists(key(k))).toBe(1);
    // A create treats it as absent.
    const again = recordAt(clock.now(), { payload: '"again"' }, 1_000);
    expect(await store.set(k, again, { ifVersion: 0 })).toBe(true);
    expect(await store.get(k)).toEqual(again);
    clock.advance(1_000);
    expect(await raw.exists(key(k))).toBe(1);
    expect(await store.touch(k, clock.now() + 60_000)).toBe(false);
    expect(await store.count()).toBe(0);
    expect((await store.keys()).keys).toEqual([]);
  });
});

describe("corrupt or foreign records are deleted (A29)", () => {
  it("get(key) of a malformed hash returns null, reports it to onError without the key, and deletes it", async () => {
    const { reports, onError } = reporter();
    const { store, key } = fresh({ onError });
    const k = randomKey();
    await raw.hset(key(k), { p: "x", e: "soon", c: "1", v: "1" });
    expect(await store.get(k)).toBeNull();
    expect(reports).toHaveLength(1);
    expect(reports[0]?.context).toEqual({ operation: "corrupt-record" });
    expect(reports[0]?.error).toMatchObject({
      name: "SessionError",
      code: "STORE_ERROR",
      store: "redis",
      operation: "get",
    });
    expect(reports[0]?.error.message).not.toContain(k);
    expect(await raw.exists(key(k))).toBe(0);
  });

  it("without onError, a corrupt record is reported as a process warning, never on the console", async () => {
    const { store, key } = fresh();
    const k = randomKey();
    await raw.set(key(k), "foreign");
    const warned = once(process, "warning");
    expect(await store.get(k)).toBeNull();
    const [warning] = (await warned) as [SessionError];
    expect(warning).toMatchObject({ name: "SessionError", code: "STORE_ERROR", store: "redis" });
    expect(warning.message).toContain("malformed record or a value of another type");
  });

  it("get(key) of a value of another type, without a TTL, returns null, reports it and deletes it with its index entries", async () => {
    const { reports, onError } = reporter();
    const { store, key, prefix } = fresh({ onError });
    const writers: [string, (name: string) => Promise<unknown>][] = [
      ["string", (name) => raw.set(name, '{"user":"admin"}')],
      ["list", (name) => raw.rpush(name, "a", "b")],
      ["set", (name) => raw.sadd(name, "a")],
      ["zset", (name) => raw.zadd(name, 1, "a")],
      ["stream", (name) => raw.xadd(name, "*", "f", "v")],
    ];
    for (const [type, write] of writers) {
      const k = randomKey();
      await write(key(k));
      await raw.zadd(bucketIndexName(prefix, k, "k"), 0, k);
      await raw.zadd(bucketIndexName(prefix, k, "e"), Date.now() + 60_000, k);
      expect(await raw.pttl(key(k)), type).toBe(-1);
      expect(await store.get(k), type).toBeNull();
      expect(await raw.exists(key(k)), type).toBe(0);
      expect(await raw.zscore(bucketIndexName(prefix, k, "k"), k), type).toBeNull();
      expect(await raw.zscore(bucketIndexName(prefix, k, "e"), k), type).toBeNull();
      expect(await store.set(k, makeRecord(), { ifVersion: 0 }), type).toBe(true);
    }
    expect(reports).toHaveLength(writers.length);
  });

  it("destroy(key) deletes a value of another type or a malformed hash without an error", async () => {
    const { store, key } = fresh();
    const [list, garbage, string] = [randomKey(), randomKey(), randomKey()];
    await raw.rpush(key(list), "x");
    await raw.hset(key(garbage), { junk: "\u0000\uffff", v: "not a number" });
    await raw.set(key(string), "x");
    for (const k of [list, garbage, string]) {
      await expect(store.destroy(k)).resolves.toBeUndefined();
      expect(await raw.exists(key(k))).toBe(0);
    }
  });

  it("set, touch and rename on a value of another type answer false and raise no WRONGTYPE", async () => {
    const { store, key } = fresh({ onError: () => {} });
    const k = randomKey();
    await raw.rpush(key(k), "x");
    expect(await store.set(k, makeRecord(), { ifVersion: 0 })).toBe(false);
    expect(await store.set(k, makeRecord({ version: 2 }), { ifVersion: 1 })).toBe(false);
    expect(await store.touch(k, Date.now() + 60_000)).toBe(false);
    expect(await store.rename(k, randomKey(), makeRecord())).toBe(false);
    expect(await raw.type(key(k))).toBe("list");
  });

  it("listByUser(userId) skips, reports and deletes a foreign value its index names", async () => {
    const { reports, onError } = reporter();
    const { store, key, userKey } = fresh({ onError });
    const good = randomKey();
    const bad = randomKey();
    await store.set(good, makeRecord({ userId: "dave" }), { ifVersion: 0 });
    await raw.zadd(userKey("dave"), Date.now() + 60_000, bad);
    await raw.set(key(bad), "foreign");
    expect((await store.listByUser("dave")).map((s) => s.key)).toEqual([good]);
    expect(reports.map((report) => report.error.operation)).toEqual(["listByUser"]);
    expect(await raw.exists(key(bad))).toBe(0);
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

  it("rename(old, new) retires the old record before it creates the new one: a crash in between leaves none", async () => {
    const { store, key } = fresh();
    const [oldKey, newKey] = [keyInBucket("10"), keyInBucket("e0")];
    const record = makeRecord({ userId: "erin" });
    await store.set(oldKey, record, { ifVersion: 0 });
    // Watch the order of the writes as the server executes them (scripts' commands included).
    // Other test files keep the server busy, and ioredis mistakes a monitor
    // line for a reply to no command while it enters monitoring mode (lines in
    // the chunk of MONITOR's OK) or leaves it (a line in flight at disconnect):
    // an "error" event, which would throw without a listener. So the monitor
    // is made here, with its listener attached before it connects; that race
    // is ignored, any other error fails the test.
    const monitor = raw.duplicate({ monitor: true, lazyConnect: false });
    const monitorErrors: Error[] = [];
    // Not events.once(): it would reject on that race's error before "monitoring".
    const monitoring = new Promise<void>((resolve, reject) => {
      monitor.once("monitoring", () => resolve());
      monitor.on("error", (error: Error) => {
        if (error.message.startsWith("Command queue state error")) return;
        monitorErrors.push(error);
        reject(error);
      });
    });
    const seen: string[] = [];
    monitor.on("monitor", (_time: string, args: string[]) => {
      const name = args[0]?.toUpperCase();
      if (name === "UNLINK" && args[1] === key(oldKey)) seen.push("unlink old");
      if (name === "HSET" && args[1] === key(newKey)) seen.push("hset new");
    });
    try {
      await monitoring;
      expect(await store.rename(oldKey, newKey, { ...record, version: 2 })).toBe(true);
      await waitUntil("the monitor to report the new record", async () =>
        seen.includes("hset new"),
      );
    } finally {
      monitor.disconnect();
    }
    expect(monitorErrors).toEqual([]);
    expect(seen).toEqual(["unlink old", "hset new"]);
  });
});

/** What `run` threw (it must throw). */
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("keys() cursor", () => {
  it("keys({ cursor }) rejects a cursor the store never issued with a TypeError", async () => {
    const { store } = fresh();
    // Core accepts any short string as a cursor; only the backend knows its own form.
    await expect(store.keys({ cursor: "+" })).rejects.toBeInstanceOf(TypeError);
    await expect(store.keys({ cursor: "A".repeat(64) })).rejects.toBeInstanceOf(TypeError);
  });
});

describe("options", () => {
  it("createRedisStore(options) rejects every bad option with a SessionError INVALID_CONFIG", () => {
    const cases: [string, unknown][] = [
      ["null", null],
      ["neither client nor url", {}],
      ["both client and url", { client, url: redisUrl }],
      ["a client that is not ioredis", { client: { status: "ready" } }],
      ["a url that is not a string", { url: 6379 }],
      ["a prefix with braces", { client, prefix: "a{b}" }],
      ["an empty prefix", { client, prefix: "" }],
      ["a prefix of 65 characters", { client, prefix: "p".repeat(65) }],
      ["operationTimeoutMs 0", { client, operationTimeoutMs: 0 }],
      ["a fractional operationTimeoutMs", { client, operationTimeoutMs: 1.5 }],
      ["operationTimeoutMs as a string", { client, operationTimeoutMs: "500" }],
      ["onError that is not a function", { client, onError: "warn" }],
      ["now that is not a function", { client, now: 1_700_000_000_000 }],
    ];
    for (const [label, options] of cases) {
      expect(
        thrownBy(() => createRedisStore(options as never)),
        label,
      ).toMatchObject({ name: "SessionError", code: "INVALID_CONFIG", store: "redis" });
    }
  });

  it("a clock that answers NaN fails the call with INVALID_CONFIG and writes nothing", async () => {
    const { store, prefix } = fresh({ now: () => Number.NaN });
    await expect(store.set(randomKey(), makeRecord(), { ifVersion: 0 })).rejects.toMatchObject({
      code: "INVALID_CONFIG",
    });
    expect(await keysOf(raw, prefix)).toEqual([]);
  });

  it("an option set both in the URL and in code, or an unknown option, is INVALID_CONFIG", () => {
    expect(() =>
      createRedisStore({ url: `${redisUrl}?prefix=fromurl`, prefix: "explicit" }),
    ).toThrow(
      expect.objectContaining({
        code: "INVALID_CONFIG",
        message: expect.stringMatching(/prefix is set both/),
      }),
    );
    expect(() => createRedisStore({ url: redisUrl, commandTimeoutMs: 100 } as never)).toThrow(
      expect.objectContaining({
        code: "INVALID_CONFIG",
        message: expect.stringMatching(/unknown option "commandTimeoutMs"/),
      }),
    );
  });
});

describe("URL grammar", () => {
  it("parseRedisUrl(url) reads the topology, hosts, credentials, database and store options", () => {
    expect(parseRedisUrl("redis+sentinel://:pw@a:1,b/master?db=2&prefix=p")).toEqual({
      topology: "sentinel",
      hosts: [
        { host: "a", port: 1 },
        { host: "b", port: 26379 },
      ],
      username: undefined,
      password: "pw",
      db: 2,
      tls: false,
      masterName: "master",
      sentinelPassword: undefined,
      prefix: "p",
      operationTimeoutMs: 2000,
      options: { prefix: "p" },
    });
    expect(parseRedisUrl("rediss://u:p%40ss@[::1]:6380/3?operationTimeoutMs=750")).toEqual({
      topology: "standalone",
      hosts: [{ host: "::1", port: 6380 }],
      username: "u",
      password: "p@ss",
      db: 3,
      tls: true,
      masterName: undefined,
      sentinelPassword: undefined,
      prefix: "sess",
      operationTimeoutMs: 750,
      options: { operationTimeoutMs: 750 },
    });
    expect(
      parseRedisUrl("REDIS+CLUSTER://10.0.0.1,10.0.0.2:7000?sentinelPassword=x&prefix=a/b"),
    ).toEqual({
      topology: "cluster",
      hosts: [
        { host: "10.0.0.1", port: 6379 },
        { host: "10.0.0.2", port: 7000 },
      ],
      username: undefined,
      password: undefined,
      db: undefined,
      tls: false,
      masterName: undefined,
      sentinelPassword: "x",
      prefix: "a/b",
      operationTimeoutMs: 2000,
      options: { prefix: "a/b" },
    });
    expect(parseRedisUrl("redis://h?db=4")).toMatchObject({
      db: 4,
      hosts: [{ host: "h", port: 6379 }],
    });
  });

  it("a malformed URL fails with INVALID_CONFIG and never echoes the URL's password", () => {
    const bad = [
      "http://:pw-secret-1@127.0.0.1",
      "redis://:pw-secret-1@",
      "redis://:pw-secret-1@h1:1,h2:2",
      "redis://:pw-secret-1@127.0.0.1/notadb",
      "redis://:pw-secret-1@127.0.0.1/1?db=1",
      "redis://:pw-secret-1@127.0.0.1:0",
      "redis://:pw-secret-1@127.0.0.1:99999",
      "redis://:pw-secret-%E0%A4%A@127.0.0.1",
      "redis://:pw-secret-1@127.0.0.1?password=pw-secret-1",
      "redis://:pw-secret-1@127.0.0.1?commandTimeoutMs=500",
      "redis://:pw-secret-1@127.0.0.1?prefix=a&prefix=b",
      "redis://:pw-secret-1@127.0.0.1?operationTimeoutMs=0",
      "redis://:pw-secret-1@127.0.0.1?operationTimeoutMs=1.5",
      "redis://:pw-secret-1@127.0.0.1?prefix=a%7Bb%7D",
      "redis+sentinel://:pw-secret-1@127.0.0.1:26379",
      "redis+cluster://:pw-secret-1@127.0.0.1:7000/2",
    ];
    for (const url of bad) {
      for (const attempt of [() => parseRedisUrl(url), () => createRedisStore({ url })]) {
        const caught = thrownBy(attempt);
        expect(caught, url).toMatchObject({ name: "SessionError", code: "INVALID_CONFIG" });
        expect((caught as Error).message, url).not.toContain("pw-secret");
      }
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
    expect(await raw.exists(sessionKeyName(prefix, k))).toBe(1);
    await store.close();
    await expect(store.get(k)).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect(redisProvider.schemes).toEqual(["redis", "rediss", "redis+sentinel", "redis+cluster"]);
  });
});

/** A store under a fresh prefix on a client of the test's own (the test quits it). */
async function storeOnOwnClient() {
  const prefix = uniqueName("skredis");
  prefixes.push(prefix);
  // The settings the README recommends: no offline queue, and ioredis's default of no auto-pipelining.
  const own = new Redis(redisUrl, { enableOfflineQueue: false, lazyConnect: true });
  await own.connect();
  return { client: own, store: createRedisStore({ client: own, prefix }) };
}

describe("round trips", () => {
  it("commands per operation, once the scripts are loaded, are the ones the README lists", async () => {
    const { client: counted, store } = await storeOnOwnClient();
    const sent: string[] = [];
    const original = counted.sendCommand.bind(counted);
    counted.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      sent.push(command.name);
      return (original as (...args: unknown[]) => unknown)(command, ...rest);
    }) as typeof counted.sendCommand;
    const owned = () => makeRecord({ userId: "rt" });
    const created = async (record: SessionRecord = owned()) => {
      const key = randomKey();
      await store.set(key, record, { ifVersion: 0 });
      return { key, record };
    };
    // [operation, set-up (not counted), the operation, commands it sends]
    const operations: [
      string,
      () => Promise<unknown>,
      (state: never) => Promise<unknown>,
      number,
    ][] = [
      [
        "set: create, anonymous",
        async () => null,
        () => store.set(randomKey(), makeRecord(), { ifVersion: 0 }),
        1,
      ],
      [
        "set: create, owned",
        async () => null,
        () => store.set(randomKey(), owned(), { ifVersion: 0 }),
        2,
      ],
      [
        "set: update, same owner",
        () => created(),
        ({ key, record }: { key: string; record: SessionRecord }) =>
          store.set(key, { ...record, version: 2 }, { ifVersion: 1 }),
        1,
      ],
      ["get", () => created(), ({ key }: { key: string }) => store.get(key), 1],
      [
        "touch: within the index entry's score",
        () => created(),
        ({ key, record }: { key: string; record: SessionRecord }) =>
          store.touch(key, record.expiresAt + 1_000),
        1,
      ],
      [
        "touch: past it",
        () => created(),
        ({ key }: { key: string }) => store.touch(key, Date.now() + 3_600_000),
        3,
      ],
      ["destroy", () => created(), ({ key }: { key: string }) => store.destroy(key), 1],
      [
        "rename",
        () => created(),
        ({ key, record }: { key: string; record: SessionRecord }) =>
          store.rename(key, randomKey(), record),
        4,
      ],
      [
        "listByUser (2 sessions)",
        async () => {
          const user = `rt-${randomKey().slice(0, 8)}`;
          await created(makeRecord({ userId: user }));
          await created(makeRecord({ userId: user }));
          return user;
        },
        (user: string) => store.listByUser(user),
        3,
      ],
      [
        "destroyByUser (2 sessions)",
        async () => {
          const user = `rt-${randomKey().slice(0, 8)}`;
          await created(makeRecord({ userId: user }));
          await created(makeRecord({ userId: user }));
          return user;
        },
        (user: string) => store.destroyByUser(user),
        3,
      ],
      ["count", async () => null, () => store.count(), 256],
      ["keys (one page)", async () => null, () => store.keys(), 256],
    ];
    // Twice: the first use of each script may add an EVAL after NOSCRIPT.
    for (const round of [0, 1]) {
      for (const [name, setUp, operation, expected] of operations) {
        const state = await setUp();
        sent.length = 0;
        await operation(state as never);
        if (round === 1) expect(sent.length, name).toBe(expected);
      }
    }
    expect(new Set(sent)).toEqual(new Set(["evalsha"]));
    await counted.quit();
  });

  it("the commands of one event-loop turn leave in one write; the next turn's in the next", async () => {
    const { client: plain, store } = await storeOnOwnClient();
    const keys = Array.from({ length: 20 }, () => randomKey());
    expect(
      await Promise.all(keys.map((key) => store.set(key, makeRecord(), { ifVersion: 0 }))),
    ).toEqual(keys.map(() => true));
    const writes = countWrites([plain.stream]);
    const read = await Promise.all(keys.map((key) => store.get(key)));
    expect(writes.counts).toEqual([1]);
    expect(read.every((record) => record !== null)).toBe(true);
    // Changes alike, and a later turn's commands leave in a write of their own.
    const touched = await Promise.all(
      keys.slice(0, 10).map((key) => store.touch(key, Date.now() + 60_000)),
    );
    await Promise.all(keys.slice(10).map((key) => store.destroy(key)));
    writes.stop();
    expect(writes.counts).toEqual([3]);
    expect(touched).toEqual(keys.slice(0, 10).map(() => true));
    expect(await Promise.all(keys.slice(10).map((key) => store.get(key)))).toEqual(
      keys.slice(10).map(() => null),
    );
    await plain.quit();
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
