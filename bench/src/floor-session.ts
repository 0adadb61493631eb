import * as crypto from "node:crypto";

/**
 * The floor of the node:http comparison: a session written by hand for one
 * app, in the fewest steps that still keep sessionkit's guarantees on a
 * request, with the same primitives sessionkit uses:
 *
 * - the cookie names a session only when its HMAC-SHA256 over the cookie's
 *   name and the id checks out, compared in constant time, before any lookup
 *   (checklist A12);
 * - the store is keyed by SHA-256 of the id, so it never holds an id;
 * - an expired record names nothing; a stored payload is decoded into fresh
 *   objects, `__proto__` keys dropped;
 * - a changed session is encoded, size-checked and written only while the
 *   stored version is the one loaded (compare-and-set), with a new expiry;
 * - all of it before the response's first byte, which says `Vary: Cookie`.
 *
 * What it leaves out is what a library adds around those steps: options,
 * header and query id sources, several secrets, lazy and flash data, touches,
 * events, store contracts, deadlines and typed errors. Its cost over the
 * one-await ceiling is what the steps themselves cost; sessionkit's cost over
 * it, what the library adds. A measuring aid of the benchmark, not a design.
 */

/** The cookie's name, also inside every MAC (domain separation). */
const NAME = "sid";
/** Idle timeout, as sessionkit's default. */
const IDLE_MS = 30 * 60_000;
/** Largest payload written, as sessionkit's default `maxPayloadBytes`. */
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** base64url length of 32 bytes (an id, a MAC). */
const ENCODED = 43;
/** SHA-256's block size. */
const BLOCK = 64;

type OneShotHash = (
  algorithm: "sha256",
  data: string | Uint8Array,
  encoding: "hex" | "latin1" | "base64url",
) => string;
/** crypto.hash() (Node >= 20.12): a one-shot digest, as sessionkit's signer uses. */
const oneShot = (crypto as unknown as { hash: OneShotHash }).hash;

/** HMAC-SHA256 (RFC 2104) of `"sid\0" + id` under `secret`, base64url; ids are 43 ASCII characters. */
function macOf(secret: string): (id: string) => string {
  const key = Buffer.from(secret, "utf8");
  if (key.length > BLOCK) throw new Error("floor: a secret longer than a block is not supported");
  const prefix = `${NAME}\0`;
  const inner = Buffer.alloc(BLOCK + prefix.length + ENCODED);
  const outer = Buffer.alloc(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    inner[i] = (key[i] ?? 0) ^ 0x36;
    outer[i] = (key[i] ?? 0) ^ 0x5c;
  }
  inner.write(prefix, BLOCK, "latin1");
  const idAt = BLOCK + prefix.length;
  return (id) => {
    inner.write(id, idAt, "latin1");
    outer.write(oneShot("sha256", inner, "latin1"), BLOCK, "latin1");
    return oneShot("sha256", outer, "base64url");
  };
}

interface FloorRecord {
  readonly payload: string;
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly version: number;
}

function dropProto(key: string, value: unknown): unknown {
  return key === "__proto__" ? undefined : value;
}

/** One request's session: a fresh object, and what it was loaded from. */
export class FloorSession {
  changed = false;
  constructor(
    readonly data: Record<string, unknown>,
    readonly key: string | undefined,
    readonly record: FloorRecord | undefined,
  ) {}

  get(name: string): unknown {
    return this.data[name];
  }

  set(name: string, value: unknown): void {
    this.data[name] = value;
    this.changed = true;
  }
}

/** The floor's sessions: load from a `Cookie` header, commit before answering. */
export interface FloorSessions {
  load(cookieHeader: string | undefined): FloorSession;
  /**
   * Writes a changed session. Returns the `Set-Cookie` value for a session it
   * created, else `undefined`; `false` when the compare-and-set failed (the
   * session changed or ended meanwhile: nothing written).
   */
  commit(session: FloorSession): string | undefined | false;
}

/** The floor's sessions on a `Map`, signed with `secret` (at most 64 bytes). */
export function floorSessions(secret: string): FloorSessions {
  const mac = macOf(secret);
  const records = new Map<string, FloorRecord>();
  const presented = Buffer.alloc(ENCODED);
  const expected = Buffer.alloc(ENCODED);
  const empty = () => new FloorSession({}, undefined, undefined);

  /** The verified id in a `sid=<id>.<mac>` cookie, or undefined. */
  const verifiedId = (header: string | undefined): string | undefined => {
    if (header === undefined) return undefined;
    const at = header.startsWith(`${NAME}=`) ? 0 : header.indexOf(`; ${NAME}=`) + 2;
    if (at === 1) return undefined;
    const start = at + NAME.length + 1;
    const end = header.indexOf(";", start);
    const token = end === -1 ? header.slice(start) : header.slice(start, end);
    if (token.length !== 2 * ENCODED + 1 || token.charCodeAt(ENCODED) !== 0x2e) return undefined;
    const id = token.slice(0, ENCODED);
    // The MAC's text is compared, so only its one canonical spelling verifies.
    presented.write(token.slice(ENCODED + 1), "latin1");
    expected.write(mac(id), "latin1");
    return crypto.timingSafeEqual(presented, expected) ? id : undefined;
  };

  return {
    load(cookieHeader) {
      const id = verifiedId(cookieHeader);
      if (id === undefined) return empty();
      const key = oneShot("sha256", id, "hex");
      const record = records.get(key);
      if (record === undefined) return empty();
      if (record.expiresAt <= Date.now()) {
        records.delete(key);
        return empty();
      }
      const text = record.payload;
      const data = (
        text.includes("__proto__") || text.includes("\\u")
          ? JSON.parse(text, dropProto)
          : JSON.parse(text)
      ) as Record<string, unknown>;
      return new FloorSession(data, key, record);
    },

    commit(session) {
      if (!session.changed) return undefined;
      const payload = JSON.stringify(session.data);
      if (Buffer.byteLength(payload, "utf8") > MAX_PAYLOAD_BYTES) {
        throw new RangeError("floor: the session is too large");
      }
      const now = Date.now();
      const { key, record } = session;
      if (key === undefined || record === undefined) {
        const id = crypto.randomBytes(32).toString("base64url");
        records.set(oneShot("sha256", id, "hex"), {
          payload,
          expiresAt: now + IDLE_MS,
          createdAt: now,
          version: 1,
        });
        return `${NAME}=${id}.${mac(id)}; Path=/; HttpOnly; SameSite=Lax`;
      }
      const current = records.get(key);
      if (current !== record || current.expiresAt <= now) return false;
      records.set(key, {
        payload,
        expiresAt: now + IDLE_MS,
        createdAt: record.createdAt,
        version: record.version + 1,
      });
      return undefined;
    },
  };
}
