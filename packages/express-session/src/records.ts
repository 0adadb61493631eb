// How express-session's data maps onto a sessionkit record: the key, the JSON
// payload, the expiry, and the version a loaded session carries.
import { ErrorCode, SessionError, type SessionRecord } from "@sessionkit/core";
import { storeKeyOf } from "@sessionkit/core/store";
import type { SessionData } from "express-session";
import type { BridgeConfig } from "./options.js";

/** What a session object was loaded with (or last saved as) in this process. */
export interface Loaded {
  readonly version: number;
  readonly createdAt: number;
}

// Set on the data get() returns, read back in createSession(): symbols are not
// copied by express-session's Session constructor nor by JSON, so the mark is
// invisible to the app and never stored.
const LOADED = Symbol("sessionkit.loaded");

/** The store key of express-session's id: its hash, never the id itself. */
export function keyOf(sid: unknown): string {
  if (typeof sid !== "string" || sid.length === 0) {
    throw new TypeError("express-session store: the session id must be a non-empty string");
  }
  return storeKeyOf(sid);
}

/** The session data of a stored payload, or `null` when it is not a JSON object. */
export function parse(payload: string): Record<string, unknown> | null {
  try {
    const data: unknown = JSON.parse(payload);
    return data !== null && typeof data === "object" && !Array.isArray(data)
      ? (data as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * The data express-session gets for a stored record, marked with the version
 * it was loaded with; `null` for a corrupt or foreign record, which is no
 * session, never a crash.
 */
export function decodeRecord(record: SessionRecord): SessionData | null {
  const data = parse(record.payload);
  if (data === null) return null;
  const cookie = data.cookie as { expires?: unknown } | undefined;
  // A store-side touch() moved the expiry without rewriting the payload:
  // report the real one, as a save would have stored it.
  if (cookie !== undefined && cookie !== null && typeof cookie === "object" && cookie.expires) {
    cookie.expires = new Date(record.expiresAt).toISOString();
  }
  Object.defineProperty(data, LOADED, {
    value: { version: record.version, createdAt: record.createdAt } satisfies Loaded,
    enumerable: false,
  });
  return data as unknown as SessionData;
}

/** The mark {@link decodeRecord} left on `data`, if it came from this store. */
export function loadedMark(data: SessionData): Loaded | undefined {
  return (data as unknown as Record<symbol, Loaded | undefined>)[LOADED];
}

/** The JSON of a session, within `maxPayloadBytes`. */
export function encode(config: BridgeConfig, session: SessionData): string {
  let payload: string | undefined;
  try {
    payload = JSON.stringify(session);
  } catch (error) {
    throw new SessionError(
      ErrorCode.INVALID_DATA,
      "express-session store: the session cannot be encoded as JSON (a BigInt or a cycle)",
      { store: config.store.name, operation: "set", cause: error },
    );
  }
  if (typeof payload !== "string" || !payload.startsWith("{")) {
    throw new TypeError("express-session store: a session must be an object");
  }
  if (Buffer.byteLength(payload, "utf8") > config.maxPayloadBytes) {
    throw new SessionError(
      ErrorCode.PAYLOAD_TOO_LARGE,
      `express-session store: the session is larger than ${config.maxPayloadBytes} bytes`,
      { store: config.store.name, operation: "set" },
    );
  }
  return payload;
}

/** When a session expires: its cookie's `expires`, else now + `ttlMs`. In epoch ms. */
export function expiresAtOf(config: BridgeConfig, session: SessionData): number {
  const expires = (session as { cookie?: { expires?: unknown } } | null)?.cookie?.expires;
  if (expires instanceof Date || typeof expires === "string" || typeof expires === "number") {
    const at = new Date(expires).getTime();
    if (Number.isSafeInteger(at)) return at;
  }
  return config.now() + config.ttlMs;
}

/**
 * True for express-session's own `Session` objects (they carry the request and
 * id as hidden properties), as opposed to a plain object passed to `set()` directly.
 */
export function isTracked(session: SessionData): boolean {
  const candidate = session as unknown as { id?: unknown; req?: unknown };
  return typeof candidate.id === "string" && typeof candidate.req === "object";
}
