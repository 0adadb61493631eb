import { parseRedisUrl, type RedisHost, type RedisUrl } from "@sessionkit/store-redis";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { type Check, check, clockCheck } from "./check.js";
import { toCliError, withTimeout } from "./cli-error.js";
import { redactUrl } from "./url.js";

/** The oldest Redis the store supports (it relies on commands of 6.2). */
const MIN_VERSION: readonly [number, number] = [6, 2];

/** Parses the `key:value` lines of an INFO reply. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const row of text.split(/\r?\n/)) {
    const colon = row.indexOf(":");
    if (colon > 0 && !row.startsWith("#")) fields.set(row.slice(0, colon), row.slice(colon + 1));
  }
  return fields;
}

/**
 * Judges `maxmemory-policy`. Every session key carries a TTL, so the
 * `volatile-*` policies may evict live sessions just as the `allkeys-*` ones
 * do: only `noeviction` keeps them (writes then fail loudly instead).
 * With `maxmemory` 0 (no limit) nothing is evicted yet, so it is a warning.
 */
export function evictionCheck(policy: string, maxmemory: number, where: string): Check {
  if (policy === "noeviction") {
    return check(
      "eviction",
      "ok",
      `${where}maxmemory-policy is noeviction: sessions are never evicted`,
    );
  }
  const fix =
    "CONFIG SET maxmemory-policy noeviction (and set it in redis.conf or your provider's parameter group), or give sessions a Redis of their own";
  const why = policy.startsWith("volatile-")
    ? "every session key has a TTL, so Redis may evict live sessions (users are logged out at random)"
    : "Redis may evict live sessions (users are logged out at random)";
  if (maxmemory === 0) {
    return check(
      "eviction",
      "warning",
      `${where}maxmemory-policy is ${policy}: once maxmemory is set, ${why}; maxmemory is 0 (no limit) for now`,
      fix,
    );
  }
  return check(
    "eviction",
    "error",
    `${where}maxmemory-policy is ${policy} with maxmemory ${maxmemory} bytes: under memory pressure ${why}`,
    fix,
  );
}

function versionCheck(version: string, where: string, topology: string): Check {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const [minMajor, minMinor] = MIN_VERSION;
  if (major < minMajor || (major === minMajor && minor < minMinor)) {
    return check(
      "version",
      "error",
      `${where}Redis ${version}: the store needs Redis ${minMajor}.${minMinor} or later`,
      "upgrade Redis",
    );
  }
  return check("version", "ok", `${where}Redis ${version} (${topology})`);
}

async function persistenceCheck(client: Redis, where: string): Promise<Check> {
  const info = parseInfo(await client.info("persistence"));
  const aof = info.get("aof_enabled") === "1";
  let rdb: boolean | undefined;
  try {
    const reply = (await client.config("GET", "save")) as string[];
    rdb = (reply[1] ?? "").trim() !== "";
  } catch {
    // CONFIG is often renamed or forbidden on managed services: RDB then stays unknown.
  }
  if (aof || rdb === true) {
    const kinds = [rdb ? "RDB snapshots" : "", aof ? "AOF" : ""].filter(Boolean).join(" and ");
    return check("persistence", "ok", `${where}persistence: ${kinds}`);
  }
  const fix =
    "enable AOF (CONFIG SET appendonly yes) or RDB snapshots (save 900 1 …), unless losing every session on a restart is acceptable";
  if (rdb === undefined) {
    return check(
      "persistence",
      "warning",
      `${where}AOF is off and the RDB setting cannot be read (CONFIG GET is not allowed): a restart may log every user out`,
      fix,
    );
  }
  return check(
    "persistence",
    "warning",
    `${where}RDB snapshots and AOF are both off: a restart logs every user out`,
    fix,
  );
}

/** Checks of one primary: version, eviction policy, persistence. */
async function primaryChecks(client: Redis, where: string, topology: string): Promise<Check[]> {
  const server = parseInfo(await client.info("server"));
  const memory = parseInfo(await client.info("memory"));
  const checks = [versionCheck(server.get("redis_version") ?? "unknown", where, topology)];
  checks.push(
    evictionCheck(
      memory.get("maxmemory_policy") ?? "unknown",
      Number(memory.get("maxmemory") ?? 0),
      where,
    ),
  );
  checks.push(await persistenceCheck(client, where));
  return checks;
}

async function clockOf(client: Redis): Promise<Check> {
  const sentAt = Date.now();
  const [seconds, micros] = (await client.time()) as [number | string, number | string];
  const receivedAt = Date.now();
  return clockCheck(Number(seconds) * 1000 + Number(micros) / 1000, sentAt, receivedAt, "Redis");
}

function baseOptions(target: RedisUrl, timeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    connectionName: "sessionkit-cli",
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
  };
}

const label = (node: RedisHost): string => `${node.host}:${node.port}`;

async function connected<T extends Redis | Cluster>(
  client: T,
  timeoutMs: number,
  url: string,
): Promise<T> {
  client.on("error", () => {});
  try {
    await withTimeout(client.connect(), timeoutMs, `cannot reach ${redactUrl(url)}`);
    return client;
  } catch (error) {
    client.disconnect();
    throw toCliError(error, `cannot reach ${redactUrl(url)}`);
  }
}

async function sentinelChecks(target: RedisUrl, timeoutMs: number): Promise<Check[]> {
  const name = target.masterName ?? "";
  let reachable = 0;
  let master: Map<string, string> | undefined;
  for (const node of target.hosts) {
    const sentinel = new Redis({
      host: node.host,
      port: node.port,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      ...(target.sentinelPassword === undefined ? {} : { password: target.sentinelPassword }),
    });
    sentinel.on("error", () => {});
    try {
      await withTimeout(sentinel.connect(), timeoutMs, "sentinel");
      const reply = (await sentinel.call("SENTINEL", "MASTER", name)) as string[];
      const fields = new Map<string, string>();
      for (let i = 0; i + 1 < reply.length; i += 2) {
        fields.set(String(reply[i]), String(reply[i + 1]));
      }
      reachable++;
      master ??= fields;
    } catch {
      // Counted as unreachable below.
    } finally {
      sentinel.disconnect();
    }
  }
  const checks: Check[] = [];
  const listed = target.hosts.length;
  if (master === undefined) {
    return [
      check(
        "topology",
        "error",
        `none of the ${listed} sentinel(s) in the URL knows a master named "${name}"`,
      ),
    ];
  }
  const sentinels = Number(master.get("num-other-sentinels") ?? 0) + 1;
  const quorum = Number(master.get("quorum") ?? 0);
  const replicas = Number(master.get("num-slaves") ?? 0);
  const flags = master.get("flags") ?? "";
  const where = `master "${name}" at ${master.get("ip")}:${master.get("port")}`;
  if (/o_down|s_down/.test(flags)) {
    checks.push(check("topology", "error", `sentinel reports ${where} as down (${flags})`));
  }
  checks.push(
    check(
      "topology",
      "ok",
      `Sentinel: ${where}, ${replicas} replica(s), ${sentinels} sentinel(s), quorum ${quorum}; ${reachable} of the ${listed} sentinel(s) in the URL answered`,
    ),
  );
  if (sentinels < 3) {
    checks.push(
      check(
        "sentinels",
        "warning",
        `only ${sentinels} sentinel(s) monitor "${name}": failover needs a majority of sentinels, so it fails when one of them does`,
        "run at least 3 sentinels on separate machines",
      ),
    );
  }
  if (replicas === 0) {
    checks.push(
      check(
        "replicas",
        "warning",
        `"${name}" has no replica: Sentinel has nothing to fail over to`,
        "add a replica",
      ),
    );
  }
  if (reachable < listed) {
    checks.push(
      check(
        "sentinels",
        "warning",
        `${listed - reachable} of the ${listed} sentinel(s) in the URL did not answer`,
      ),
    );
  }
  return checks;
}

/**
 * `doctor` for Redis: version, eviction policy and persistence of every
 * primary, the topology (role, Sentinel, Cluster) and clock skew.
 */
export async function redisDoctor(url: string, timeoutMs: number): Promise<Check[]> {
  const target = parseRedisUrl(url);
  const options = baseOptions(target, timeoutMs);
  const checks: Check[] = [];
  if (target.topology === "cluster") {
    const cluster = await connected(
      new Cluster(
        target.hosts.map((node) => ({ host: node.host, port: node.port })),
        {
          lazyConnect: true,
          clusterRetryStrategy: () => null,
          // Node connections open on their first command and queue it until
          // then (ioredis gives cluster nodes an offline queue); each command
          // is still bounded by commandTimeout, and nothing here writes.
          redisOptions: options,
        },
      ),
      timeoutMs,
      url,
    );
    try {
      const primaries = cluster.nodes("master");
      const replicas = cluster.nodes("slave");
      const state = parseInfo(String(await cluster.cluster("INFO")));
      const status = state.get("cluster_state") === "ok" ? "ok" : "error";
      checks.push(
        check(
          "topology",
          status,
          `Cluster: state ${state.get("cluster_state")}, ${primaries.length} primaries, ${replicas.length} replicas, ${state.get("cluster_slots_assigned")} of 16384 slots assigned`,
        ),
      );
      if (replicas.length === 0) {
        checks.push(
          check(
            "replicas",
            "warning",
            "no primary has a replica: a failed primary takes its slots (and the sessions in them) down until it returns",
            "give every primary a replica",
          ),
        );
      }
      for (const node of primaries) {
        const where = `${label({ host: node.options.host ?? "?", port: node.options.port ?? 0 })}: `;
        checks.push(...(await primaryChecks(node, where, "cluster primary")));
      }
      const first = primaries[0];
      if (first !== undefined) checks.push(await clockOf(first));
    } finally {
      cluster.disconnect();
    }
    return checks;
  }

  const clientOptions: RedisOptions =
    target.topology === "sentinel"
      ? {
          ...options,
          sentinels: target.hosts.map((node) => ({ host: node.host, port: node.port })),
          name: target.masterName ?? "",
          sentinelRetryStrategy: () => null,
          ...(target.sentinelPassword === undefined
            ? {}
            : { sentinelPassword: target.sentinelPassword }),
          ...(target.db === undefined ? {} : { db: target.db }),
        }
      : {
          ...options,
          host: target.hosts[0]?.host ?? "127.0.0.1",
          port: target.hosts[0]?.port ?? 6379,
          ...(target.db === undefined ? {} : { db: target.db }),
          ...(target.tls ? { tls: { servername: target.hosts[0]?.host ?? "" } } : {}),
        };
  const client = await connected(new Redis(clientOptions), timeoutMs, url);
  try {
    const replication = parseInfo(await client.info("replication"));
    const role = replication.get("role") ?? "unknown";
    if (target.topology === "sentinel") {
      checks.push(...(await sentinelChecks(target, timeoutMs)));
    } else if (role === "master") {
      const replicas = Number(replication.get("connected_slaves") ?? 0);
      checks.push(
        check(
          "topology",
          replicas === 0 ? "info" : "ok",
          replicas === 0
            ? "standalone primary without replicas: no automatic failover"
            : `standalone primary with ${replicas} replica(s); without Sentinel, failover is manual`,
        ),
      );
    } else {
      checks.push(
        check(
          "topology",
          "error",
          `the URL points at a ${role === "slave" ? "replica" : role}: every session write fails with READONLY`,
          "point the URL at the primary, or use redis+sentinel:// so the store follows failovers",
        ),
      );
    }
    checks.push(...(await primaryChecks(client, "", target.topology)));
    checks.push(await clockOf(client));
  } finally {
    client.disconnect();
  }
  return checks;
}
