import { createHash, randomBytes } from "node:crypto";
import type { SessionRecord, SessionStore } from "@sessionkit/core";

/** A fresh store key (as core derives one: 64 hex characters). */
export function newKey(): string {
  return createHash("sha256").update(randomBytes(32)).digest("hex");
}

/** A record expiring `inMs` from now (negative: already expired). */
export function record(userId?: string, inMs = 3_600_000): SessionRecord {
  const now = Date.now();
  return {
    payload: "{}",
    expiresAt: now + inMs,
    createdAt: now,
    version: 1,
    ...(userId === undefined ? {} : { userId }),
  };
}

/** Writes `count` sessions of `userId` (anonymous when undefined); returns their keys. */
export async function seed(store: SessionStore, count: number, userId?: string): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = newKey();
    await store.set(key, record(userId), { ifVersion: 0 });
    keys.push(key);
  }
  return keys;
}
