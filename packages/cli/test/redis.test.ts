import { createServer, type Server, type Socket } from "node:net";
import { freePort } from "@sessionkit/conformance";
import { createRedisStore, type RedisStore } from "@sessionkit/store-redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireEnv, sessionkit, sessionkitInTerminal, unique } from "./cli.js";
import { RedisServers } from "./redis-servers.js";
import { seed } from "./seed.js";

const REDIS_URL = requireEnv("REDIS_URL");
const servers = new RedisServers();
afterAll(() => servers.stopAll());

interface Report {
  checks: { id: string; status: string; message: string; fix?: string }[];
  exitCode: number;
}

async function doctorJson(url: string): Promise<{ code: number | null; report: Report }> {
  const result = await sessionkit(["doctor", "--json", "--store", url]);
  expect(result.stderr).toBe("");
  return { code: result.code, report: JSON.parse(result.stdout) as Report };
}

const statusOf = (report: Report, id: string) =>
  report.checks.filter((c) => c.id === id).map((c) => c.status);

describe("sessionkit doctor (Redis)", () => {
  it("noeviction without persistence: exit 1, a persistence warning only", async () => {
    const port = await servers.start();
    const { code, report } = await doctorJson(`redis://127.0.0.1:${port}`);
    expect(code).toBe(1);
    expect(report.exitCode).toBe(1);
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ["store", "ok"],
      ["topology", "info"],
      ["version", "ok"],
      ["eviction", "ok"],
      ["persistence", "warning"],
      ["clock", "ok"],
    ]);
    expect(report.checks[4]?.message).toBe(
      "RDB snapshots and AOF are both off: a restart logs every user out",
    );
  });

  it("noeviction with AOF: no problems, exit 0, text report", async () => {
    const port = await servers.start(["--appendonly", "yes"]);
    const result = await sessionkit(["doctor", "--store", `redis://127.0.0.1:${port}`]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(`sessionkit doctor: redis://127.0.0.1:${port}`);
    expect(lines[1]).toBe(
      '  ok       store         the store answers: 0 live session(s) under prefix "sess"',
    );
    expect(lines).toContain("  ok       persistence   persistence: AOF");
    expect(lines).toContain(
      "  ok       eviction      maxmemory-policy is noeviction: sessions are never evicted",
    );
    expect(lines.at(-2)).toBe("no problems found");
  });

  it("allkeys-lru with a memory limit is an error with the fix (exit 2)", async () => {
    const port = await servers.start([
      "--maxmemory",
      "100mb",
      "--maxmemory-policy",
      "allkeys-lru",
      "--appendonly",
      "yes",
    ]);
    const { code, report } = await doctorJson(`redis://127.0.0.1:${port}`);
    expect(code).toBe(2);
    expect(report.checks.find((c) => c.id === "eviction")).toEqual({
      id: "eviction",
      status: "error",
      message:
        "maxmemory-policy is allkeys-lru with maxmemory 104857600 bytes: under memory pressure Redis may evict live sessions (users are logged out at random)",
      fix: "CONFIG SET maxmemory-policy noeviction (and set it in redis.conf or your provider's parameter group), or give sessions a Redis of their own",
    });
  });

  it("volatile-ttl is an error too: every session key has a TTL", async () => {
    const port = await servers.start([
      "--maxmemory",
      "100mb",
      "--maxmemory-policy",
      "volatile-ttl",
    ]);
    const { code, report } = await doctorJson(`redis://127.0.0.1:${port}`);
    expect(code).toBe(2);
    const eviction = report.checks.find((c) => c.id === "eviction");
    expect(eviction?.status).toBe("error");
    expect(eviction?.message).toBe(
      "maxmemory-policy is volatile-ttl with maxmemory 104857600 bytes: under memory pressure every session key has a TTL, so Redis may evict live sessions (users are logged out at random)",
    );
  });

  it("an evicting policy without a memory limit is a warning", async () => {
    const port = await servers.start(["--maxmemory-policy", "allkeys-lfu", "--appendonly", "yes"]);
    const { code, report } = await doctorJson(`redis://127.0.0.1:${port}`);
    expect(code).toBe(1);
    expect(statusOf(report, "eviction")).toEqual(["warning"]);
  });

  it("a URL pointing at a replica is a topology error", async () => {
    const primary = await servers.start(["--appendonly", "yes"]);
    const replica = await servers.start([
      "--appendonly",
      "yes",
      "--replicaof",
      "127.0.0.1",
      String(primary),
    ]);
    const { code, report } = await doctorJson(`redis://127.0.0.1:${replica}`);
    expect(code).toBe(2);
    expect(report.checks.find((c) => c.id === "topology")).toEqual({
      id: "topology",
      status: "error",
      message: "the URL points at a replica: every session write fails with READONLY",
      fix: "point the URL at the primary, or use redis+sentinel:// so the store follows failovers",
    });
  });

  it("a password in the URL works and is never printed", async () => {
    const port = await servers.start(
      ["--requirepass", "s3cret-pw", "--appendonly", "yes"],
      "s3cret-pw",
    );
    const result = await sessionkit(["doctor", "--store", `redis://:s3cret-pw@127.0.0.1:${port}`]);
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[0]).toBe(`sessionkit doctor: redis://***@127.0.0.1:${port}`);
    expect(result.stdout + result.stderr).not.toContain("s3cret");
  });

  it("a wrong password is one line on stderr, exit 2, and never printed", async () => {
    const port = await servers.start(["--requirepass", "right-pw"], "right-pw");
    const result = await sessionkit(["doctor", "--store", `redis://:wrong-pw@127.0.0.1:${port}`]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      new RegExp(
        `^sessionkit: cannot reach redis://\\*\\*\\*@127\\.0\\.0\\.1:${port}: [^\\n]*WRONGPASS[^\\n]*\\n$`,
      ),
    );
    expect(result.stderr).not.toContain("wrong-pw");
  });

  it("an unreachable server is one line on stderr, exit 2, no stack trace", async () => {
    const port = await freePort();
    const result = await sessionkit(["stats", "--store", `redis://127.0.0.1:${port}`]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `sessionkit: cannot reach redis://127.0.0.1:${port}: redis: count() failed: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
  });

  it("a server that accepts but never answers fails within --timeout", async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      const result = await sessionkit([
        "doctor",
        "--timeout",
        "1000",
        "--store",
        `redis://127.0.0.1:${port}`,
      ]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe(
        `sessionkit: cannot reach redis://127.0.0.1:${port}: no answer within 1000 ms\n`,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describe("sessionkit doctor (Redis Cluster and Sentinel)", () => {
  const clusterUrls = process.env.REDIS_CLUSTER_URLS;
  const sentinelUrl = process.env.REDIS_SENTINEL_URL;
  const missing = 'start them with: eval "$(bash scripts/redis-topologies.sh up)"';

  it("reports the Cluster topology and checks every primary", async () => {
    if (!clusterUrls) throw new Error(`REDIS_CLUSTER_URLS is not set: ${missing}`);
    const hosts = clusterUrls
      .split(",")
      .map((url) => url.replace(/^redis:\/\//, ""))
      .join(",");
    const { code, report } = await doctorJson(`redis+cluster://${hosts}?prefix=${unique("cli")}`);
    expect(code).toBe(1);
    const topology = report.checks.find((c) => c.id === "topology");
    expect(topology?.status).toBe("ok");
    expect(topology?.message).toMatch(
      /^Cluster: state ok, (\d+) primaries, \d+ replicas, 16384 of 16384 slots assigned$/,
    );
    const primaries = Number(/(\d+) primaries/.exec(topology?.message ?? "")?.[1]);
    expect(statusOf(report, "eviction")).toEqual(Array(primaries).fill("ok"));
    // The topology script starts its servers without persistence.
    expect(statusOf(report, "persistence")).toEqual(Array(primaries).fill("warning"));
  });

  it("reports the Sentinel topology and warns about a single sentinel", async () => {
    if (!sentinelUrl) throw new Error(`REDIS_SENTINEL_URL is not set: ${missing}`);
    const { code, report } = await doctorJson(`${sentinelUrl}?prefix=${unique("cli")}`);
    expect(code).toBe(1);
    const topology = report.checks.find((c) => c.id === "topology");
    expect(topology?.status).toBe("ok");
    expect(topology?.message).toMatch(
      /^Sentinel: master "sessionkit" at 127\.0\.0\.1:\d+, 1 replica\(s\), 1 sentinel\(s\), quorum 1; 1 of the 1 sentinel\(s\) in the URL answered$/,
    );
    expect(report.checks.find((c) => c.id === "sentinels")?.status).toBe("warning");
    expect(statusOf(report, "eviction")).toEqual(["ok"]);
  });
});

describe("sessionkit stats and revoke (Redis)", () => {
  let prefix: string;
  let url: string;
  let store: RedisStore;

  beforeAll(() => {
    prefix = unique("cli");
    url = `${REDIS_URL}?prefix=${prefix}`;
    store = createRedisStore({ url: REDIS_URL, prefix });
  });
  afterAll(async () => {
    await store.clear();
    await store.close();
  });

  it("stats counts live sessions and hides user ids unless --show-users", async () => {
    await store.clear();
    await seed(store, 3, "alice@example.com");
    await seed(store, 2, "bob@example.com");
    await seed(store, 1);
    const hidden = await sessionkit(["stats", "--json", "--store", url]);
    expect(hidden.code).toBe(0);
    const report = JSON.parse(hidden.stdout);
    expect(report).toMatchObject({
      store: url,
      live: 6,
      expired: null,
      scanned: 6,
      users: 2,
      anonymous: 1,
      usersShown: false,
    });
    expect(report.top.map((entry: { sessions: number }) => entry.sessions)).toEqual([3, 2]);
    for (const entry of report.top) expect(entry.user).toMatch(/^~[0-9a-f]{10}$/);
    expect(hidden.stdout).not.toContain("example.com");

    const shown = await sessionkit(["stats", "--show-users", "--top", "1", "--store", url]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toBe(
      [
        `sessionkit stats: ${url}`,
        "  live sessions            6",
        "  expired, not yet pruned  n/a (the store expires sessions itself)",
        "  signed-in users          2",
        "  anonymous sessions       1",
        "  top 1 user(s) by sessions",
        "           3  alice@example.com",
        "",
      ].join("\n"),
    );
  });

  it("revoke --user without a terminal and without --yes refuses and changes nothing", async () => {
    await store.clear();
    await seed(store, 2, "carol");
    const result = await sessionkit(["revoke", "--user", "carol", "--store", url]);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr:
        "sessionkit: refusing without confirmation: stdin is not a terminal; pass --yes to confirm\n",
    });
    expect(await store.listByUser("carol")).toHaveLength(2);
  });

  it("revoke --user --yes revokes every session of that user only", async () => {
    await store.clear();
    await seed(store, 3, "dave");
    const [kept] = await seed(store, 1, "erin");
    const result = await sessionkit(["revoke", "--user", "dave", "--yes", "--store", url]);
    expect(result).toEqual({
      code: 0,
      stdout: 'revoked 3 session(s) of user "dave"\n',
      stderr: "",
    });
    expect(await store.listByUser("dave")).toEqual([]);
    expect((await store.listByUser("erin")).map((s) => s.key)).toEqual([kept]);
  });

  it("revoke --user asks on a terminal and revokes on y", async () => {
    await store.clear();
    await seed(store, 2, "frank");
    const question = `Revoke 2 session(s) of user "frank" in ${url}? [y/N] `;
    const result = await sessionkitInTerminal(["revoke", "--user", "frank", "--store", url], {
      waitFor: question,
      input: "y\r",
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(question);
    expect(result.stdout).toContain('revoked 2 session(s) of user "frank"\r\n');
    expect(await store.listByUser("frank")).toEqual([]);
  });

  it("revoke --all on a terminal answered n changes nothing and exits 1", async () => {
    await store.clear();
    await seed(store, 2, "grace");
    const question = `Revoke all 2 live session(s) in ${url}? Every user is logged out. [y/N] `;
    const result = await sessionkitInTerminal(["revoke", "--all", "--store", url], {
      waitFor: question,
      input: "n\r",
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("cancelled: nothing was revoked\r\n");
    expect(await store.count()).toBe(2);
  });

  it("revoke --all --yes --json clears the store", async () => {
    await store.clear();
    await seed(store, 4);
    const result = await sessionkit(["revoke", "--all", "--yes", "--json", "--store", url]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      store: url,
      user: null,
      revoked: 4,
      confirmed: true,
    });
    expect(await store.count()).toBe(0);
  });

  it("gc and migrate have nothing to do on Redis", async () => {
    const gc = await sessionkit(["gc", "--json", "--store", url]);
    expect(gc.code).toBe(0);
    expect(JSON.parse(gc.stdout)).toEqual({
      store: url,
      supported: false,
      expired: null,
      removed: 0,
    });
    const migrate = await sessionkit(["migrate", "--store", url]);
    expect(migrate).toEqual({
      code: 0,
      stdout: "the redis store has no schema: nothing to migrate\n",
      stderr: "",
    });
  });
});
