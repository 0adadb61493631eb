import type { Redis } from "ioredis";

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
