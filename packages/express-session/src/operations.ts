// The store side of the bridge: each express-session Store method as one
// operation on the wrapped sessionkit store.
import { ErrorCode, SessionError, type SessionRecord } from "@sessionkit/core";
import { iterateKeys } from "@sessionkit/core/store";
import type { SessionData } from "express-session";
import type { BridgeConfig } from "./options.js";
import {
  decodeRecord,
  encode,
  expiresAtOf,
  isTracked,
  keyOf,
  type Loaded,
  parse,
} from "./records.js";

// Each round of last-writer-wins has one winner; a save that loses this many
// rounds in a row is under pathological contention.
const MAX_WRITE_ATTEMPTS = 16;

/** The session stored under `sid`, or `null` when it is missing, expired, or unreadable (corrupt or foreign). */
export async function getSession(config: BridgeConfig, sid: string): Promise<SessionData | null> {
  const record = await config.store.get(keyOf(sid));
  return record === null ? null : decodeRecord(record);
}

/**
 * Saves `session` under `sid`. A session loaded from this store (`loaded`) is
 * a compare-and-set on the version it was loaded with, retried on the newer
 * version when another save won (last writer wins), and dropped when the
 * session was destroyed or expired meanwhile. A new one is created; a
 * plain object is written over whatever is stored. Returns what the session
 * is now stored as, for the next save of the same object.
 */
export async function saveSession(
  config: BridgeConfig,
  sid: string,
  session: SessionData,
  loaded: Loaded | undefined,
): Promise<Loaded | undefined> {
  const { store } = config;
  const key = keyOf(sid);
  const payload = encode(config, session);
  const expiresAt = expiresAtOf(config, session);
  const userId = config.userId?.(session);
  // A session loaded from this store: compare-and-set on its version.
  // A new one: create. Anything else: read first.
  let expected: Loaded | null | undefined = loaded ?? (isTracked(session) ? null : undefined);
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    if (expected === undefined) {
      const current = await store.get(key);
      if (current === null && (loaded !== undefined || attempt > 0)) {
        // Destroyed or expired since it was loaded: never resurrect.
        return undefined;
      }
      expected =
        current === null ? null : { version: current.version, createdAt: current.createdAt };
    }
    const version = expected === null ? 1 : expected.version + 1;
    const record: SessionRecord = {
      payload,
      expiresAt,
      createdAt: expected === null ? config.now() : expected.createdAt,
      version,
      ...(userId === undefined || userId === "" ? {} : { userId }),
    };
    const written = await store.set(key, record, {
      ifVersion: expected === null ? 0 : expected.version,
    });
    if (written) return { version, createdAt: record.createdAt };
    // Someone else wrote or deleted it meanwhile: look again.
    expected = undefined;
  }
  throw new SessionError(
    ErrorCode.CONFLICT,
    "express-session store: the session kept changing during the save",
    { store: store.name, operation: "set" },
  );
}

/** Deletes the session under `sid`; a missing one is not an error. */
export async function destroySession(config: BridgeConfig, sid: string): Promise<void> {
  await config.store.destroy(keyOf(sid));
}

/**
 * Pushes the expiry of the session under `sid` to its cookie's `expires` (or
 * now + `ttlMs`) without rewriting data; never recreates, never shortens.
 */
export async function touchSession(
  config: BridgeConfig,
  sid: string,
  session: SessionData,
): Promise<void> {
  const key = keyOf(sid);
  const expiresAt = expiresAtOf(config, session);
  const { store } = config;
  if (store.capabilities.touch && store.touch !== undefined) {
    // false means missing or expired: nothing to extend, nothing to recreate.
    await store.touch(key, expiresAt);
    return;
  }
  // Without a native touch: rewrite the stored record with a later expiry,
  // conditionally, so a concurrent save or destroy wins over the touch.
  const current = await store.get(key);
  if (current === null || current.expiresAt >= expiresAt) return;
  await store.set(
    key,
    { ...current, expiresAt, version: current.version + 1 },
    { ifVersion: current.version },
  );
}

/** Every live session's data; the ids cannot be listed (the store holds their hashes). */
export async function allSessions(config: BridgeConfig): Promise<SessionData[]> {
  const { store } = config;
  if (!store.capabilities.keys || store.keys === undefined) throw unsupported(config, "keys");
  const sessions: SessionData[] = [];
  const seen = new Set<string>();
  for await (const key of iterateKeys(store, { pageSize: config.pageSize })) {
    if (seen.has(key)) continue;
    seen.add(key);
    const record = await store.get(key);
    const data = record === null ? null : parse(record.payload);
    if (data !== null) sessions.push(data as unknown as SessionData);
  }
  return sessions;
}

/** Number of live sessions. */
export async function countSessions(config: BridgeConfig): Promise<number> {
  const { store } = config;
  if (!store.capabilities.count || store.count === undefined) throw unsupported(config, "count");
  return store.count();
}

/** Deletes every session of the store. */
export async function clearSessions(config: BridgeConfig): Promise<void> {
  const { store } = config;
  if (!store.capabilities.clear || store.clear === undefined) throw unsupported(config, "clear");
  await store.clear();
}

function unsupported(config: BridgeConfig, capability: string): SessionError {
  const name = config.store.name;
  return new SessionError(
    ErrorCode.UNSUPPORTED,
    `express-session store: the "${name}" store does not declare the "${capability}" capability`,
    { store: name, operation: capability },
  );
}
