import {
  describeStoreConformance,
  freePort,
  makeRecord,
  randomKey,
  uniqueName,
  waitUntil,
} from "@sessionkit/conformance";
import { createRedisStore, type RedisStore } from "@sessionkit/store-redis";
import { Cluster, Redis } from "ioredis";
import { createCluster, createSentinel } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketTags, keySlot } from "../src/layout.js";
import {
  bucketIndexName,
  keysOf,
  prefixedStores,
  redisInspector,
  removePrefixes,
  sessionKeyName,
  userIndexName,
} from "./cleanup.js";
import { clusterFailover, replicated } from "./cluster-failover.js";
import { command, RedisProcesses } from "./redis-processes.js";
import { countWrites } from "./socket-writes.js";

// Cluster and Sentinel need servers of their own: `eval "$(bash scripts/redis-topologies.sh)"`
// at the repository root starts both and prints these variables. Without them
// these tests fail (never skip), saying so.
const CLUSTER_URLS = process.env.REDIS_CLUSTER_URLS ?? "";
const SENTINEL_URL = process.env.REDIS_SENTINEL_URL ?? "";
const HOW = 'run eval "$(bash scripts/redis-topologies.sh)" at the repository root first';

const clusterNodes = CLUSTER_URLS.split(",")
  .filter((url) => url !== "")
  .map((url) => {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port || 6379) };
  });

function sentinelOptions(url: string) {
  const match = /^redis\+sentinel:\/\/([^/]+)\/([^/?]+)$/.exec(url);
  if (match === null) throw new Error("REDIS_SENTINEL_URL must be redis+sentinel://host:port/name");
  const sentinels = (match[1] as string).split(",").map((entry) => {
    const [host, port] = entry.split(":");
    return { host: host as string, port: Number(port ?? 26379) };
  });
  return { sentinels, name: match[2] as string };
}

describe("topology services", () => {
  it("REDIS_CLUSTER_URLS and REDIS_SENTINEL_URL are set", () => {
    expect(CLUSTER_URLS, `REDIS_CLUSTER_URLS is not set: ${HOW}`).not.toBe("");
    expect(SENTINEL_URL, `REDIS_SENTINEL_URL is not set: ${HOW}`).not.toBe("");
  });
});

// Without the variables only the check above runs (and fails): a whole suite
// failing on a missing variable would bury the one message that matters.
describe.runIf(CLUSTER_URLS !== "")("Redis Cluster", () => {
  let cluster: Cluster;
  const stores = prefixedStores("skredis");

  beforeAll(async () => {
    cluster = new Cluster(clusterNodes, { enableOfflineQueue: false, lazyConnect: true });
    await cluster.connect();
  });

  afterAll(async () => {
    for (const node of cluster.nodes("master")) await removePrefixes(node, stores.prefixes);
    await cluster.quit();
  });

  describeStoreConformance<RedisStore>("redis (cluster)", {
    createStore: () => stores.create((prefix) => createRedisStore({ client: cluster, prefix })),
    inspect: redisInspector(() => cluster, stores.sessionKey),
  });

  it("a session shares its bucket's slot; the user index has a slot of its own", async () => {
    const prefix = uniqueName("skredis");
    const key = randomKey();
    const slots = [
      sessionKeyName(prefix, key),
      bucketIndexName(prefix, key, "k"),
      bucketIndexName(prefix, key, "e"),
    ].map(keySlot);
    expect(new Set(slots).size).toBe(1);
    // Our slot function agrees with the server's, for every bucket and a user index.
    const node = cluster.nodes("master")[0] as Redis;
    const names = [
      ...bucketTags().map((_, b) =>
        sessionKeyName(prefix, b.toString(16).padStart(2, "0") + key.slice(2)),
      ),
      userIndexName(prefix, "alice"),
    ];
    const served = await Promise.all(names.map((name) => node.cluster("KEYSLOT", name)));
    expect(served).toEqual(names.map(keySlot));
  });

  it("3,000 sessions spread over the masters: each holds 25–42 % of them", async (ctx) => {
    const prefix = uniqueName("skredis");
    stores.prefixes.push(prefix);
    const store = createRedisStore({ client: cluster, prefix });
    const total = 3_000;
    for (let done = 0; done < total; done += 250) {
      const batch = Array.from({ length: 250 }, () =>
        store.set(randomKey(), makeRecord({ userId: `user-${done % 7}` }), { ifVersion: 0 }),
      );
      expect(await Promise.all(batch)).toEqual(batch.map(() => true));
    }
    const masters = cluster.nodes("master");
    expect(masters).toHaveLength(3);
    const perMaster = await Promise.all(
      masters.map(
        async (node) => (await keysOf(node, prefix)).filter((k) => k.includes(":s:")).length,
      ),
    );
    expect(perMaster.reduce((a, b) => a + b, 0)).toBe(total);
    for (const held of perMaster) {
      expect(held / total).toBeGreaterThanOrEqual(0.25);
      expect(held / total).toBeLessThanOrEqual(0.42);
    }
    await ctx.annotate(
      `redis cluster distribution of ${total} sessions over 3 masters: ${perMaster.map((n) => `${((100 * n) / total).toFixed(1)} %`).join(", ")}`,
    );
    expect(await store.count()).toBe(total);
  });

  it("the commands of one event-loop turn leave in one write per master", async () => {
    const prefix = uniqueName("skredis");
    stores.prefixes.push(prefix);
    const store = createRedisStore({ client: cluster, prefix });
    // Buckets 00, 80 and ff: slots 0–63, 8192–8255 and 16320–16383, one on each master.
    const keys = ["00", "80", "ff"].flatMap((bucket) =>
      Array.from({ length: 10 }, () => bucket + randomKey().slice(2)),
    );
    expect(
      await Promise.all(keys.map((key) => store.set(key, makeRecord(), { ifVersion: 0 }))),
    ).toEqual(keys.map(() => true));
    const masters = cluster.nodes("master");
    const servedBy = (key: string) => cluster.slots[keySlot(sessionKeyName(prefix, key))]?.[0];
    expect(new Set(keys.map(servedBy))).toEqual(
      new Set(masters.map((node) => `${node.options.host}:${node.options.port}`)),
    );
    const writes = countWrites(masters.map((node) => node.stream));
    const read = await Promise.all(keys.map((key) => store.get(key)));
    writes.stop();
    expect(writes.counts).toEqual([1, 1, 1]);
    expect(read.every((record) => record !== null)).toBe(true);
  });

  it("a redis+cluster:// URL opens a working store", async () => {
    const prefix = uniqueName("skredis");
    stores.prefixes.push(prefix);
    const hosts = clusterNodes.map((n) => `${n.host}:${n.port}`).join(",");
    const store = createRedisStore({ url: `redis+cluster://${hosts}`, prefix });
    try {
      const key = randomKey();
      const record = makeRecord({ userId: "u" });
      expect(await store.set(key, record, { ifVersion: 0 })).toBe(true);
      expect((await store.listByUser("u")).map((s) => s.key)).toEqual([key]);
      expect(await store.count()).toBe(1);
    } finally {
      await store.close();
    }
  });
});

describe.runIf(SENTINEL_URL !== "")("Redis Sentinel", () => {
  let raw: Redis;
  const stores = prefixedStores("skredis");

  beforeAll(async () => {
    raw = new Redis({ ...sentinelOptions(SENTINEL_URL), lazyConnect: true });
    await raw.connect();
  });

  afterAll(async () => {
    await removePrefixes(raw, stores.prefixes);
    await raw.quit();
  });

  describeStoreConformance<RedisStore>("redis (sentinel)", {
    createStore: () => stores.create((prefix) => createRedisStore({ url: SENTINEL_URL, prefix })),
    inspect: redisInspector(() => raw, stores.sessionKey),
  });
});

// The same store on node-redis 5 clients of each topology: the whole contract again.
describe.runIf(CLUSTER_URLS !== "")("Redis Cluster through node-redis", () => {
  const cluster = createCluster({
    rootNodes: clusterNodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })),
    defaults: { disableOfflineQueue: true },
  });
  let raw: Cluster;
  const stores = prefixedStores("sknoderedis");

  beforeAll(async () => {
    raw = new Cluster(clusterNodes, { enableOfflineQueue: false, lazyConnect: true });
    await Promise.all([cluster.connect(), raw.connect()]);
  });

  afterAll(async () => {
    for (const node of raw.nodes("master")) await removePrefixes(node, stores.prefixes);
    await Promise.all([cluster.close(), raw.quit()]);
  });

  describeStoreConformance<RedisStore>("redis (node-redis cluster)", {
    createStore: () => stores.create((prefix) => createRedisStore({ client: cluster, prefix })),
    inspect: redisInspector(() => raw, stores.sessionKey),
  });
});

describe.runIf(SENTINEL_URL !== "")("Redis Sentinel through node-redis", () => {
  const { sentinels, name } =
    SENTINEL_URL === "" ? { sentinels: [], name: "" } : sentinelOptions(SENTINEL_URL);
  const sentinel = createSentinel({
    name,
    sentinelRootNodes: sentinels,
    nodeClientOptions: { disableOfflineQueue: true },
  });
  let raw: Redis;
  const stores = prefixedStores("sknoderedis");

  beforeAll(async () => {
    raw = new Redis({ sentinels, name, lazyConnect: true });
    await Promise.all([sentinel.connect(), raw.connect()]);
  });

  afterAll(async () => {
    await removePrefixes(raw, stores.prefixes);
    await Promise.all([sentinel.close(), raw.quit()]);
  });

  describeStoreConformance<RedisStore>("redis (node-redis sentinel)", {
    createStore: () => stores.create((prefix) => createRedisStore({ client: sentinel, prefix })),
    inspect: redisInspector(() => raw, stores.sessionKey),
  });
});

describe("Cluster failover (own Cluster, from scripts/redis-topologies.sh)", () => {
  it("a master killed during traffic: its replica takes over, no replicated write is lost, the store recovers by itself, and the script heals the Cluster", async (ctx) => {
    await ctx.annotate(await clusterFailover());
  }, 150_000);
});

/** A store on the Sentinel at `port` watching master `name`, and how to let its client go. */
type SentinelStore = (
  port: number,
  name: string,
) => Promise<{ store: RedisStore; close(): Promise<void> }>;

// How many writes that failed during the failover may be applied later: none
// through ioredis (the store sends nothing while it is not ready); node-redis's
// Sentinel client holds commands until it has found the new primary, past the
// operation's deadline, so one write per attempt may land (conditional writes:
// they cannot overwrite or resurrect anything, A18).
const sentinelStores: [string, SentinelStore, number][] = [
  [
    "ioredis, from a redis+sentinel:// URL",
    async (port, name) => {
      const store = createRedisStore({
        url: `redis+sentinel://127.0.0.1:${port}/${name}`,
        prefix: uniqueName("skredis"),
        operationTimeoutMs: 1_000,
      });
      return { store, close: () => store.close() };
    },
    0,
  ],
  [
    "node-redis createSentinel()",
    async (port, name) => {
      const sentinel = createSentinel({
        name,
        sentinelRootNodes: [{ host: "127.0.0.1", port }],
        nodeClientOptions: { disableOfflineQueue: true },
      });
      await sentinel.connect();
      const store = createRedisStore({
        client: sentinel,
        prefix: uniqueName("skredis"),
        operationTimeoutMs: 1_000,
      });
      return { store, close: async () => sentinel.destroy() };
    },
    Number.POSITIVE_INFINITY,
  ],
];

describe("Sentinel failover (own master, replica and sentinel)", () => {
  it.each(sentinelStores)(
    "%s: after the master dies and the replica is promoted, replicated sessions are readable and writes succeed",
    async (_, open, lateWrites) => {
      const processes = new RedisProcesses();
      const [primary, replica, sentinel] = [await freePort(), await freePort(), await freePort()];
      const name = "skfailover";
      let opened: Awaited<ReturnType<SentinelStore>> | undefined;
      try {
        await processes.server(primary);
        await processes.server(replica, "--replicaof", "127.0.0.1", String(primary));
        await waitUntil("the replica to sync", async () =>
          String(await command(replica, "INFO", "replication")).includes("master_link_status:up"),
        );
        await processes.sentinel(sentinel, name, primary);
        await waitUntil("the sentinel to see the replica", async () =>
          JSON.stringify(await command(sentinel, "SENTINEL", "replicas", name)).includes(
            `"${replica}"`,
          ),
        );

        opened = await open(sentinel, name);
        const { store } = opened;
        const keys = Array.from({ length: 5 }, randomKey);
        for (const key of keys) {
          expect(await store.set(key, makeRecord({ userId: "u" }), { ifVersion: 0 })).toBe(true);
        }
        // Only sessions the replica has acknowledged can survive the primary's death.
        await replicated(primary);

        processes.kill(primary);
        await waitUntil("the sentinel to promote the replica", async () => {
          const address = (await command(
            sentinel,
            "SENTINEL",
            "get-master-addr-by-name",
            name,
          )) as string[];
          return address[1] === String(replica);
        });

        // Poll the store itself, a new key per attempt: every failed attempt
        // must be a typed, retryable error.
        const attempts: string[] = [];
        const unexpected: unknown[] = [];
        await waitUntil("the store to write through the new primary", async () => {
          const key = randomKey();
          attempts.push(key);
          try {
            return await store.set(key, makeRecord(), { ifVersion: 0 });
          } catch (error) {
            const typed = error as { name?: unknown; retryable?: unknown };
            if (typed.name !== "SessionError" || typed.retryable !== true) unexpected.push(error);
            return false;
          }
        });
        expect(unexpected).toEqual([]);
        for (const key of keys) expect((await store.get(key))?.userId).toBe("u");
        expect(await store.get(attempts.at(-1) as string)).not.toBeNull();
        // Attempts that failed and were applied anyway, once a new primary was found.
        const late = (await Promise.all(attempts.slice(0, -1).map((key) => store.get(key)))).filter(
          (record) => record !== null,
        ).length;
        expect(late).toBeLessThanOrEqual(lateWrites);
        expect(await store.count()).toBe(keys.length + 1 + late);
      } finally {
        await opened?.close();
        processes.stopAll();
      }
    },
    90_000,
  );
});
