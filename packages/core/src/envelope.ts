import { FORBIDDEN_KEYS, jsonCodec, type SessionCodec } from "./codec.js";
import { ErrorCode, SessionError } from "./errors.js";
import type { SessionRecord } from "./store.js";

/**
 * The envelope core stores in a record's payload, `{ d: data, f?: flash, v?:
 * data version, p?: persistence }`, and the checks that decide whether what a
 * store handed back is ours at all.
 */

/**
 * Decoded session contents: data and queued flash messages. Only own
 * properties count (read with `Object.hasOwn`): data decoded from JSON has
 * Object.prototype, everything else (and flash) none.
 */
export interface Contents {
  data: Record<string, unknown>;
  /**
   * Queued flash messages. Read-only here: it may be the shared
   * {@link NO_FLASH}, so every write goes through {@link ownFlash}.
   */
  flash: Readonly<Record<string, unknown[]>>;
  /** Version of the data's shape (the manager's `version` when written); 1 when absent. */
  version: number;
  /**
   * This session's own cookie lifetime in ms (`persist(ms)`), `false` for a
   * browser-session cookie (`persist(false)`), or `undefined` for the
   * manager's default. Stored as `p` (0 for false).
   */
  persist: number | false | undefined;
}

/** Deepest JSON nesting a stored payload may have; deeper ones are foreign. */
export const MAX_PAYLOAD_DEPTH = 1000;

/**
 * Latest `expiresAt` a record may claim, relative to now: the 400-day cookie
 * cap, plus a day for clocks that differ between the processes of an app.
 */
const MAX_FUTURE_MS = 401 * 24 * 3600 * 1000;

/**
 * The flash of contents that hold no flash messages: one shared, frozen,
 * empty object, so loading a session makes no dictionary-mode object for
 * flash it rarely has (`Object.create(null)` measured 183 bytes and about
 * 0.1 µs, on every load). Read freely; replaced through {@link ownFlash}
 * before the first write.
 */
export const NO_FLASH: Record<string, unknown[]> = Object.freeze(Object.create(null));

/** The flash of `contents`, made its own (writable) first if it is {@link NO_FLASH}. */
export function ownFlash(contents: Contents): Record<string, unknown[]> {
  if (contents.flash === NO_FLASH) contents.flash = Object.create(null);
  return contents.flash as Record<string, unknown[]>;
}

export function emptyContents(version = 1): Contents {
  return { data: Object.create(null), flash: NO_FLASH, version, persist: undefined };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Whether what a store's `get` resolved to has the shape of a record core
 * could have written, with believable timestamps. A custom store that hands
 * back `{}`, a string or a number, or a row whose expiry is centuries away,
 * holds something foreign.
 */
export function isWellFormedRecord(value: unknown, now: number): value is SessionRecord {
  if (value === null || typeof value !== "object") return false;
  const { payload, expiresAt, createdAt, version, userId } = value as Record<string, unknown>;
  return (
    typeof payload === "string" &&
    Number.isSafeInteger(expiresAt) &&
    Number.isSafeInteger(createdAt) &&
    Number.isSafeInteger(version) &&
    (version as number) >= 1 &&
    (createdAt as number) <= (expiresAt as number) &&
    (expiresAt as number) <= now + MAX_FUTURE_MS &&
    (userId === undefined || (typeof userId === "string" && userId.length > 0))
  );
}

/**
 * Whether JSON text nests deeper than {@link MAX_PAYLOAD_DEPTH}: one linear
 * scan, run only on texts long enough to be that deep, so a hostile record
 * never reaches the recursive parts of decoding and re-encoding.
 */
function nestsTooDeep(text: string): boolean {
  if (text.length <= 2 * MAX_PAYLOAD_DEPTH) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_PAYLOAD_DEPTH) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Decodes a stored payload into fresh objects; `null` for anything not ours
 *. A payload longer than `maxPayloadBytes` could never have been written
 * by core and is refused before it is parsed, so a 50 MB record costs no parse.
 */
export function decodeContents(
  codec: SessionCodec,
  payload: string,
  maxPayloadBytes: number,
): Contents | null {
  if (payload.length > maxPayloadBytes) return null;
  if (codec === jsonCodec && nestsTooDeep(payload)) return null;
  let decoded: unknown;
  try {
    decoded = codec.decode(payload);
  } catch {
    return null;
  }
  if (!isPlainObject(decoded) || !isPlainObject(decoded.d)) return null;
  const { v, p } = decoded;
  if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 1)) return null;
  if (p !== undefined && !(Number.isSafeInteger(p) && (p as number) >= 0)) return null;
  const stored = decoded.d;
  let data: Record<string, unknown>;
  if (codec === jsonCodec) {
    // JSON.parse made this object for this call alone, and its "__proto__" keys
    // are gone already (see jsonCodec): it becomes the data as it is, a
    // fast-mode object instead of a copy in a dictionary-mode one.
    if (Object.hasOwn(stored, "constructor"))
      delete (stored as { constructor?: unknown }).constructor;
    if (Object.hasOwn(stored, "prototype")) delete (stored as { prototype?: unknown }).prototype;
    data = stored;
  } else {
    // A custom codec's result may be shared or exotic: copied onto a fresh object.
    data = Object.create(null);
    const keys = Object.keys(stored);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      if (!FORBIDDEN_KEYS.has(key)) data[key] = stored[key];
    }
  }
  const contents: Contents = {
    data,
    flash: NO_FLASH,
    version: v === undefined ? 1 : (v as number),
    persist: p === undefined ? undefined : p === 0 ? false : (p as number),
  };
  if (decoded.f !== undefined) {
    if (!isPlainObject(decoded.f)) return null;
    for (const [key, value] of Object.entries(decoded.f)) {
      if (!FORBIDDEN_KEYS.has(key) && Array.isArray(value)) ownFlash(contents)[key] = value;
    }
  }
  return contents;
}

/** Encodes contents into the envelope; `INVALID_DATA` when the codec breaks its contract. */
export function encodeContents(codec: SessionCodec, contents: Contents): string {
  const envelope: {
    d: Record<string, unknown>;
    f?: Record<string, unknown[]>;
    v?: number;
    p?: number;
  } = { d: contents.data };
  for (const _ in contents.flash) {
    envelope.f = contents.flash;
    break;
  }
  // Absent fields keep the payloads of apps that use neither feature unchanged.
  if (contents.version !== 1) envelope.v = contents.version;
  if (contents.persist !== undefined)
    envelope.p = contents.persist === false ? 0 : contents.persist;
  const payload = codec.encode(envelope);
  if (typeof payload !== "string") {
    throw new SessionError(
      ErrorCode.INVALID_DATA,
      "the session codec's encode() must return a string",
    );
  }
  return payload;
}
