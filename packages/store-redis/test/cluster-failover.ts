import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { makeRecord, randomKey, uniqueName, waitUntil } from "@sessionkit/conformance";
import { isSessionError, type SessionRecord } from "@sessionkit/core";
import { createRedisStore } from "@sessionkit/store-redis";
import { expect } from "vitest";
import { keySlot } from "../src/layout.js";
import { sessionKeyName } from "./cleanup.js";
import { command } from "./redis-processes.js";

const TOPOLOGY_SCRIPT = fileURLToPath(
  new URL("../../../scripts/redis-topologies.sh", import.meta.url),
);
/**
 * Replies the killed master sent just before it died may arrive a little
 * after the kill. Nothing else can: the replica is promoted only after the
 * Cluster's node timeout (2 s in the test topology), so whatever is
 * acknowledged on the killed master's slots from 1 s after the kill on was
 * written by the promoted replica.
 */
const IN_FLIGHT_MS = 1_000;

interface SlotRange {
  readonly start: number;
  readonly end: number;
  readonly master: number;
  readonly replica: number | undefined;
}

/** The Cluster's slot map, as the first node that answers sees it (CLUSTER NODES). */
async function slotMap(ports: readonly number[]): Promise<SlotRange[]> {
  for (const port of ports) {
    let view: string;
    try {
      view = String(await command(port, "CLUSTER", "NODES"));
    } catch {
      continue; // A node that is down: ask the next one.
    }
    const nodes = view
      .trim()
      .split("\n")
      .map((line) => line.split(" "));
    const portOf = (address: string) => Number(/:(\d+)@/.exec(address)?.[1]);
    const ranges: SlotRange[] = [];
    for (const [id, address, flags, , , , , , ...slots] of nodes) {
      if (!flags?.includes("master") || flags.includes("fail")) continue;
      const replica = nodes.find(
        (node) => node[3] === id && node[2]?.includes("slave") && !node[2].includes("fail"),
      );
      for (const slot of slots) {
        if (slot.startsWith("[")) continue; // A slot being migrated.
        const [start, end = start] = slot.split("-").map(Number);
        ranges.push({
          start: start as number,
          end: end as number,
          master: portOf(address as string),
          replica: replica === undefined ? undefined : portOf(replica[1] as string),
        });
      }
    }
    return ranges;
  }
  throw new Error("no cluster node answers CLUSTER NODES");
}

const masterOf = (map: readonly SlotRange[], slot: number): number | undefined =>
  map.find((range) => slot >= range.start && slot <= range.end)?.master;

/**
 * Resolves once a replica of `master` has acknowledged every write the master
 * had executed when this was called (its replication offset at that moment).
 * Unlike `WAIT` on a connection of its own, this covers writes that other
 * connections made.
 */
export async function replicated(master: number): Promise<void> {
  const info = String(await command(master, "INFO", "replication"));
  const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? Number.NaN);
  expect(Number.isSafeInteger(offset)).toBe(true);
  await waitUntil(
    `a replica of port ${master} to acknowledge offset ${offset}`,
    async () => {
      const now = String(await command(master, "INFO", "replication"));
      return [...now.matchAll(/^slave\d+:.*state=online,offset=(\d+)/gm)].some(
        (match) => Number(match[1]) >= offset,
      );
    },
    15_000,
  );
}

interface Acked {
  readonly key: string;
  readonly record: SessionRecord;
  readonly ackedAt: number;
}

/** Whether 127.0.0.1:port is free to listen on. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A base port with six free ports from it, and their Cluster bus ports (+10,000). */
async function freeClusterBase(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    // Below the usual ephemeral range (32768+), bus ports included, so no
    // outgoing connection takes one between this check and the start.
    const base = 10_000 + 8 * Math.floor(Math.random() * 1_249);
    const ports = [0, 1, 2, 3, 4, 5].flatMap((i) => [base + i, base + i + 10_000]);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error("found no free range of ports for the failover Cluster");
}

/**
 * Starts a Cluster of its own with scripts/redis-topologies.sh (three masters,
 * one replica each; its own directory and ports, so the shared test Cluster
 * that other packages' tests use at the same time is never disturbed), kills
 * (SIGKILL) the master that owns slot 0 while four workers keep creating
 * sessions through a store opened from a `redis+cluster://` URL, and checks:
 *
 * - every session acknowledged before the last replication checkpoint (the
 *   replica had acknowledged the master's offset) reads back after the failover;
 * - only sessions acknowledged by the killed master between that checkpoint
 *   and the kill (plus {@link IN_FLIGHT_MS}) may be missing (Redis replicates asynchronously: that window
 *   is what its documentation says a failover can lose), and nothing written
 *   to another master or after the failover is;
 * - every failed call during the failover is a retryable `SessionError`;
 * - the store writes to the killed master's slots again by itself.
 *
 * Afterwards the topology script's `up` must heal the Cluster: it restarts
 * the killed node, which rejoins as a replica, and waits until every master
 * has a linked replica. Then `down` stops everything. Resolves to a one-line
 * summary of what was measured.
 */
export async function clusterFailover(): Promise<string> {
  const dir = join(tmpdir(), `sk-failover-${randomBytes(6).toString("hex")}`);
  const env = {
    ...process.env,
    REDIS_TOPOLOGY_DIR: dir,
    REDIS_TOPOLOGY_BASE_PORT: String(await freeClusterBase()),
    REDIS_TOPOLOGIES: "cluster",
  };
  const topology = (verb: "up" | "down") =>
    promisify(execFile)("bash", [TOPOLOGY_SCRIPT, verb], { env, timeout: 90_000 });
  try {
    const { stdout } = await topology("up");
    const urls = /REDIS_CLUSTER_URLS=(\S+)/.exec(stdout)?.[1];
    expect(urls, "the topology script prints REDIS_CLUSTER_URLS").toBeTypeOf("string");
    const nodes = (urls as string).split(",").map((url) => new URL(url));
    const summary = await failover(
      dir,
      nodes.map((url) => ({ host: url.hostname, port: Number(url.port) })),
    );
    const healed = await topology("up");
    expect(healed.stderr).toContain("healed");
    expect(healed.stdout).toBe(stdout);
    return summary;
  } finally {
    await topology("down").catch(() => {});
  }
}

async function failover(
  dir: string,
  nodes: readonly { readonly host: string; readonly port: number }[],
): Promise<string> {
  const ports = nodes.map((node) => node.port);
  const before = await slotMap(ports);
  const victim = masterOf(before, 0) as number;
  const promoted = before.find((range) => range.master === victim)?.replica;
  expect(promoted, "the master of slot 0 has a replica").toBeTypeOf("number");
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, String(victim), "redis.pid"), "utf8").trim());
  } catch {
    throw new Error(`no pid file for cluster node ${victim} in ${dir}`);
  }
  const masters = [...new Set(before.map((range) => range.master))];
  const prefix = uniqueName("skfailover");
  const hosts = nodes.map((node) => `${node.host}:${node.port}`).join(",");
  const store = createRedisStore({
    url: `redis+cluster://${hosts}`,
    prefix,
    operationTimeoutMs: 1_000,
  });
  const onVictim = (key: string) =>
    masterOf(before, keySlot(sessionKeyName(prefix, key))) === victim;

  let stop = false;
  let killedAt = 0;
  let firstVictimWriteAt: number | undefined;
  let victimWritesAfterKill = 0;
  let typedFailures = 0;
  const acked: Acked[] = [];
  const unexpected: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (!stop) {
      const key = randomKey();
      const record = makeRecord({ userId: `user-${Math.floor(Math.random() * 50)}` });
      try {
        if (await store.set(key, record, { ifVersion: 0 })) {
          const ackedAt = performance.now();
          acked.push({ key, record, ackedAt });
          if (killedAt > 0 && ackedAt > killedAt + IN_FLIGHT_MS && onVictim(key)) {
            firstVictimWriteAt ??= ackedAt;
            victimWritesAfterKill++;
          }
        } else {
          unexpected.push(new Error("a create of a fresh key answered false"));
        }
      } catch (error) {
        if (isSessionError(error) && error.retryable) typedFailures++;
        else unexpected.push(error);
        // Failures are immediate while a slot has no master: do not spin.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };

  let workers: Promise<void>[] = [];
  try {
    // Sessions written, then replicated, before any traffic.
    const durable: Acked[] = [];
    for (let i = 0; i < 200; i++) {
      const key = randomKey();
      const record = makeRecord({ userId: `user-${i % 50}` });
      expect(await store.set(key, record, { ifVersion: 0 })).toBe(true);
      durable.push({ key, record, ackedAt: 0 });
    }
    await Promise.all(masters.map(replicated));

    workers = Array.from({ length: 4 }, worker);
    await waitUntil("100 writes under traffic", async () => acked.length >= 100, 20_000);
    const checkpoint = acked.length;
    await replicated(victim);
    process.kill(pid, "SIGKILL");
    killedAt = performance.now();
    await waitUntil(
      "the store to write to the killed master's slots again",
      async () => victimWritesAfterKill >= 20,
      40_000,
    );
    stop = true;
    await Promise.all(workers);

    expect(unexpected).toEqual([]);
    const survivors = ports.filter((port) => port !== victim);
    await waitUntil(
      "the Cluster to show the promoted replica as master of slot 0",
      async () => masterOf(await slotMap(survivors), 0) === promoted,
      10_000,
    );

    const mustSurvive = [...durable, ...acked.slice(0, checkpoint)];
    const missing = (
      await Promise.all(
        mustSurvive.map(async (entry) =>
          (await store.get(entry.key))?.payload === entry.record.payload ? null : entry,
        ),
      )
    ).filter((entry) => entry !== null);
    expect(missing).toEqual([]);
    const late = acked.slice(checkpoint);
    const lateLoaded = await Promise.all(late.map((entry) => store.get(entry.key)));
    const lost = late.filter((_, i) => lateLoaded[i]?.payload !== late[i]?.record.payload);
    // Only the asynchronous-replication window may lose writes: acknowledged by
    // the killed master after the checkpoint and before it died.
    for (const entry of lost) {
      expect(onVictim(entry.key) && entry.ackedAt < killedAt + IN_FLIGHT_MS).toBe(true);
    }
    return `redis cluster failover: ${acked.length} writes under traffic, SIGKILL of the master of slot 0, its slots writable again after ${Math.round((firstVictimWriteAt as number) - killedAt)} ms, ${typedFailures} typed retryable failures meanwhile, ${lost.length} of ${late.length} writes acknowledged after the last replication checkpoint lost (all acknowledged by the killed master before it died), ${mustSurvive.length} replicated sessions all intact`;
  } finally {
    stop = true;
    await Promise.allSettled(workers);
    await store.close();
  }
}
