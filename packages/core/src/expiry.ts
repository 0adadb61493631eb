import type { Config } from "./config.js";
import type { SessionState } from "./state.js";
import type { SessionRecord } from "./store.js";

/**
 * The expiry policy: when a session ends, and when its stored end moves. A
 * stored end moves forward at most once per `touchAfterMs`, by a touch when
 * the session is unchanged and by the write itself when it changed, so the
 * idle window only ever shortens, by less than `touchAfterMs` (checklist A20).
 */

/** Whether moving `record`'s end to `expiresAt` is due: forward, by `touchAfterMs` or more. */
export function shouldTouch(config: Config, record: SessionRecord, expiresAt: number): boolean {
  return expiresAt > record.expiresAt && expiresAt - record.expiresAt >= config.touchAfterMs;
}

/**
 * The session's end as of `now`. A session with its own `persist(ms)` lives
 * through `ms` of inactivity; any other through `idleTimeoutMs`, and with the
 * manager's persistent cookie never past that cookie's end. All within the
 * absolute deadline. The record never outlives the cookie the server issued
 * with it: every write that moves the expiry re-issues a persistent cookie.
 */
export function expiryFor(config: Config, s: SessionState, now: number, createdAt: number): number {
  const absolute = createdAt + config.absoluteTimeoutMs;
  const { persist } = s.contents;
  if (typeof persist === "number") return Math.min(now + persist, absolute);
  const expiresAt = Math.min(now + config.idleTimeoutMs, absolute);
  return persist === undefined && config.maxAgeMs !== undefined
    ? Math.min(expiresAt, now + config.maxAgeMs)
    : expiresAt;
}

/**
 * The end a write of the session stores. A create's is {@link expiryFor}'s.
 * A write of `previous`'s session keeps `previous`'s end until moving it is
 * due ({@link shouldTouch}) and this request changed no expiry policy
 * (`persist()`), so frequent writes to one session leave its end, and every
 * store's expiry bookkeeping (Redis's TTL and expiry index, the indexed
 * column of the SQL stores), as they are. A shorter end (a shorter
 * `persist()`, the absolute timeout) is always written.
 */
export function writtenExpiry(
  config: Config,
  s: SessionState,
  now: number,
  createdAt: number,
  previous: SessionRecord | undefined,
): number {
  const expiresAt = expiryFor(config, s, now, createdAt);
  return previous !== undefined &&
    !s.persistChanged &&
    expiresAt >= previous.expiresAt &&
    !shouldTouch(config, previous, expiresAt)
    ? previous.expiresAt
    : expiresAt;
}
