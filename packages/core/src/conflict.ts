import type { Config } from "./config.js";
import { decodeContents, ownFlash } from "./envelope.js";
import { ErrorCode, SessionError } from "./errors.js";
import { mergeInto } from "./merge.js";
import type { SessionState } from "./state.js";
import type { SessionRecord } from "./store.js";
import { storeCall } from "./store-call.js";

/**
 * Concurrent writes to one session: a compare-and-set that lost is retried on
 * the stored session with this request's changes merged onto it, and a
 * session another request ended meanwhile closes this one with `CONFLICT`.
 */

// Every round of a compare-and-set race has exactly one winner, so N requests
// racing on one session need at most N - 1 retries each.
const MAX_CONFLICT_RETRIES = 64;

/** Jittered backoff after the first retries, so racing requests stop colliding in lockstep. */
function backoff(attempt: number): Promise<void> | undefined {
  if (attempt < 2) return undefined;
  const ms = Math.random() * Math.min(50, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Re-reads the stored session after a failed compare-and-set and merges this
 * request's changes onto it. `false` means it was ended meanwhile: destroyed,
 * moved by a regenerate, or past its idle or absolute deadline by this
 * manager's clock (the same rule a load applies).
 */
async function rebase(config: Config, s: SessionState, key: string): Promise<boolean> {
  const fresh = await storeCall(config, "get", () => config.store.get(key));
  const base = s.record;
  if (fresh === null || base === undefined) return false;
  const now = config.now();
  if (fresh.expiresAt <= now || fresh.createdAt + config.absoluteTimeoutMs <= now) return false;
  const freshContents = decodeContents(config.codec, fresh.payload, config.maxPayloadBytes);
  const baseContents = decodeContents(config.codec, base.payload, config.maxPayloadBytes);
  if (freshContents === null || baseContents === null) return false;
  mergeInto(config, baseContents.data, s.contents.data, freshContents.data);
  mergeInto(
    config,
    baseContents.flash,
    s.contents.flash,
    // Written into: made its own first when it is the shared empty flash.
    ownFlash(freshContents),
  );
  // This request's persist() wins over what the other request stored.
  if (s.persistChanged) freshContents.persist = s.contents.persist;
  s.contents = freshContents;
  if (s.userId === base.userId) s.userId = fresh.userId;
  s.record = fresh;
  return true;
}

/**
 * Another request destroyed, expired or regenerated the session while this
 * one changed it: this request's changes are dropped and the session is
 * closed. No cookie is set or cleared: the browser's cookie may already be the
 * one a concurrent regenerate issued, and clearing it would log the user out.
 * The returned `CONFLICT` (HTTP 409) is thrown, so the write is never answered
 * as a success.
 */
function drop(config: Config, s: SessionState, id: string): SessionError {
  config.emit("dropped", id);
  s.record = undefined;
  s.id = undefined;
  s.key = undefined;
  s.regenerate = false;
  s.closed = true;
  s.cookie = "none";
  return new SessionError(
    ErrorCode.CONFLICT,
    "the session was ended by another request (logout, expiry or regenerate) while this request changed it; the changes were not saved",
    { store: config.store.name, operation: "set" },
  );
}

/**
 * Runs one compare-and-set write until it lands, then settles with what
 * `landed` answers. After a failed attempt the stored session is re-read and
 * this request's changes merged onto it (so requests changing different keys
 * all survive); a session ended meanwhile closes this one with `CONFLICT`.
 * The first attempt, which nearly always lands, takes no async frame, and
 * `landed` runs in the same step as its answer.
 */
export function casRetry<T>(
  config: Config,
  s: SessionState,
  attempt: (current: SessionRecord, retry: number) => Promise<boolean>,
  landed: () => T,
): Promise<T> {
  return attempt(s.record as SessionRecord, 0).then((first) =>
    first ? landed() : retryAfterConflict(config, s, attempt).then(landed),
  );
}

/** {@link casRetry} after its first attempt failed. */
async function retryAfterConflict(
  config: Config,
  s: SessionState,
  attempt: (current: SessionRecord, retry: number) => Promise<boolean>,
): Promise<void> {
  const id = s.id as string;
  const key = s.key as string;
  for (let retry = 0; ; retry++) {
    if (retry >= MAX_CONFLICT_RETRIES) {
      config.emit("conflict", id, ErrorCode.CONFLICT);
      throw new SessionError(
        ErrorCode.CONFLICT,
        "the session kept changing under this request; giving up",
        { store: config.store.name, operation: "set" },
      );
    }
    s.retries++;
    await backoff(retry);
    if (!(await rebase(config, s, key))) throw drop(config, s, id);
    if (await attempt(s.record as SessionRecord, retry + 1)) return;
  }
}
