import { type StoreInspector, uniqueName } from "@sessionkit/conformance";
import type { SessionStore } from "@sessionkit/core";
import type { RedisStore } from "@sessionkit/store-redis";
import type { Cluster, Redis } from "ioredis";
import { bucketOf, bucketTags, userHash } from "../src/layout.js";

/** The Redis key of session `key` in the store with `prefix` (the documented layout). */
export function sessionKeyName(prefix: string, key: string): string {
  return `${prefix}:{${bucketTags()[bucketOf(key)]}}:s:${key}`;
}

/** The Redis key of the bucket indexes (`k` or `e`) holding `key`. */
export function bucketIndexName(prefix: string, key: string, index: "k" | "e"): string {
  return `${prefix}:{${bucketTags()[bucketOf(key)]}}:${index}`;
}

/** The Redis key of a user's index. */
export function userIndexName(prefix: string, userId: string): string {
  return `${prefix}:{u:${userHash(userId)}}`;
}

/**
 * Deletes the keys of the given store prefixes on one node with SCAN + UNLINK
 * (never KEYS or FLUSHDB on a shared server). One UNLINK per key: a store's
 * keys span many slots, and a Cluster node refuses multi-slot commands.
 */
export async function removePrefixes(node: Redis, prefixes: readonly string[]): Promise<void> {
  for (const prefix of prefixes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1_000);
      await Promise.all(keys.map((key) => node.unlink(key)));
      cursor = next;
    } while (cursor !== "0");
  }
}

/** The keys of one store prefix on one node, by SCAN. */
export async function keysOf(node: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await node.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1_000);
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

/**
 * Stores of one test file, each under a fresh prefix: `create` opens one
 * (`open` gets the prefix), `prefixes` are what `removePrefixes` must clean
 * up, and `sessionKey` names a store's session for {@link redisInspector}.
 */
export function prefixedStores(tag: string) {
  const prefixes: string[] = [];
  const prefixOf = new WeakMap<SessionStore, string>();
  return {
    prefixes,
    create(open: (prefix: string) => RedisStore): RedisStore {
      const prefix = uniqueName(tag);
      prefixes.push(prefix);
      const store = open(prefix);
      prefixOf.set(store, prefix);
      return store;
    },
    sessionKey(store: SessionStore, key: string): string {
      const prefix = prefixOf.get(store);
      if (prefix === undefined) throw new Error("store not created by this file");
      return sessionKeyName(prefix, key);
    },
  };
}
