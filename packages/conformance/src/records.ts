import { randomBytes } from "node:crypto";
import type { SessionRecord } from "@sessionkit/core/store";

/**
 * A random store key of the form core derives: 64 lowercase hex characters.
 *
 * @example
 * ```ts
 * await store.set(randomKey(), makeRecord(), { ifVersion: 0 });
 * ```
 */
export function randomKey(): string {
  return randomBytes(32).toString("hex");
}

/**
 * A valid record (version 1, anonymous, a small JSON payload) created at `now`
 * and expiring `ttlMs` after it; `overrides` replaces any field.
 *
 * @param overrides fields to replace.
 * @param ttlMs time to live from `now`, in ms; negative for an already expired record. @default 60000
 * @param now creation time, epoch ms; pass the suite's or the store's clock. @default Date.now()
 * @example
 * ```ts
 * const record = makeRecord({ userId: "alice" }, 5_000, clock.now());
 * ```
 */
export function makeRecord(
  overrides: Partial<SessionRecord> = {},
  ttlMs = 60_000,
  now: number = Date.now(),
): SessionRecord {
  return {
    payload: JSON.stringify({ cart: [1, 2, 3], csrf: randomBytes(16).toString("base64url") }),
    createdAt: now,
    expiresAt: now + ttlMs,
    version: 1,
    ...overrides,
  };
}
