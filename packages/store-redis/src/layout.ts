import { createHash } from "node:crypto";

/**
 * The key layout, shared by standalone, Sentinel and Cluster:
 *
 * - `<prefix>:{<tag b>}:s:<key>` hash, one session, in bucket `b` = the first
 *   two hex digits of its key (256 buckets);
 * - `<prefix>:{<tag b>}:k` and `:e` sorted sets, the bucket's key and expiry indexes;
 * - `<prefix>:{u:<sha1(userId)>}` sorted set, the user's keys.
 *
 * A bucket's keys share its hash tag, so one script updates a session and its
 * bucket indexes atomically. The 256 tags are chosen so that bucket `b` hashes
 * to a slot in `[64·b, 64·b + 63]`: the buckets cover the 16,384 Cluster slots
 * evenly, so masters that own equal slot ranges hold equal shares of sessions.
 */

/** Number of buckets: the first two hex digits of a key pick its bucket. */
export const BUCKET_COUNT = 256;

const SLOT_COUNT = 16_384;

/** CRC16-CCITT (XMODEM), the hash Redis Cluster uses for key slots. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}

/** The Cluster slot of a key name (its `{hash tag}` when it has a non-empty one). */
export function keySlot(name: string): number {
  const open = name.indexOf("{");
  let hashed = name;
  if (open !== -1) {
    const close = name.indexOf("}", open + 1);
    if (close > open + 1) hashed = name.slice(open + 1, close);
  }
  return crc16(new TextEncoder().encode(hashed)) % SLOT_COUNT;
}

let tags: readonly string[] | undefined;

/**
 * The hash tag of each bucket: the first `sk<n>` (n in base 36, counting up)
 * whose slot falls in the bucket's slot range. Deterministic, so every process
 * derives the same names.
 */
export function bucketTags(): readonly string[] {
  if (tags !== undefined) return tags;
  const found: (string | undefined)[] = new Array(BUCKET_COUNT).fill(undefined);
  let missing = BUCKET_COUNT;
  for (let n = 0; missing > 0; n++) {
    const tag = `sk${n.toString(36)}`;
    const bucket = Math.floor((keySlot(tag) * BUCKET_COUNT) / SLOT_COUNT);
    if (found[bucket] === undefined) {
      found[bucket] = tag;
      missing--;
    }
  }
  tags = Object.freeze(found as string[]);
  return tags;
}

/** The bucket of a store key (64 lowercase hex characters). */
export function bucketOf(key: string): number {
  return Number.parseInt(key.slice(0, 2), 16);
}

/** Hex SHA-1 of a user id: names the user's index without putting the id in a key name. */
export function userHash(userId: string): string {
  return createHash("sha1").update(userId).digest("hex");
}
