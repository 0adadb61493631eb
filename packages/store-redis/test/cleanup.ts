import type { StoreInspector } from "@sessionkit/conformance";
import type { SessionStore } from "@sessionkit/core";
import type { Cluster, Redis } from "ioredis";

/**
 * Deletes the keys of the given store prefixes on one node with SCAN + UNLINK
 * in batches (never KEYS or FLUSHDB on a shared server). All keys of a prefix
 * share its hash tag, so each batch is single-slot on a Cluster node too.
 */
export async function removePrefixes(node: Redis, prefixes: readonly string[]): Promise<void> {
  for (const prefix of prefixes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 1_000);
      if (keys.length > 0) await node.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
  }
}

/** The keys of one store prefix on one node, by SCAN. */
export async function keysOf(node: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await node.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 1_000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return found.sort();
}

/**
 * Raw inspection hooks for the conformance suite: read what Redis physically
 * holds for a store's session, through the client `raw()` returns (a plain or
 * Cluster client, connected once the tests run), under the key `keyOf(store, key)`.
 */
export function redisInspector(
  raw: () => Redis | Cluster,
  keyOf: (store: SessionStore, key: string) => string,
): StoreInspector {
  return {
    exists: async (store, key) => (await raw().exists(keyOf(store, key))) === 1,
    async ttlMs(store, key) {
      const ttl = await raw().pttl(keyOf(store, key));
      return ttl < 0 ? null : ttl;
    },
    async storedExpiresAt(store, key) {
      const value = await raw().hget(keyOf(store, key), "e");
      return value === null ? null : Number(value);
    },
  };
}
