import * as crypto from "node:crypto";
import { createHash, createHmac, createSecretKey, randomBytes, timingSafeEqual } from "node:crypto";
import { ErrorCode, SessionError } from "./errors.js";
import { rememberStoreKey } from "./store.js";

/** Session ids are 256 bits from the CSPRNG. */
const ID_BYTES = 32;
/** 32 bytes in unpadded base64url. */
const ENCODED_LENGTH = 43;
/** `<id>.<signature>` */
export const TOKEN_LENGTH = ENCODED_LENGTH * 2 + 1;
const TOKEN = /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/;
// 43 base64url characters carry 258 bits for 256 bits of data: the last
// character's low two bits must be zero. Only these 16 characters qualify, so
// one byte string has exactly one accepted encoding.
const CANONICAL_LAST = "AEIMQUYcgkosw048";
/** Domain separation: a signature made for anything else never verifies here. */
const CONTEXT = "sessionkit/session-cookie/v1";

/** Minimum secret length in bytes. */
export const MIN_SECRET_BYTES = 32;

const HOW_TO_MAKE_A_SECRET =
  "Generate one with `node -e \"console.log(crypto.randomBytes(32).toString('base64url'))\"` and keep it out of source control.";

/**
 * Secrets printed in the documentation of popular session and token libraries
 * (express-session, iron-session, @fastify/session, @fastify/secure-session,
 * koa-session, gorilla/sessions, jwt.io, …) and the usual placeholders. They
 * are compared after {@link normalizeSecret}, so case, spaces and punctuation
 * do not matter.
 */
const WELL_KNOWN_SECRETS: ReadonlySet<string> = new Set(
  [
    "keyboard cat",
    "secret",
    "changeme",
    "changethis",
    "your-secret-key",
    "your-256-bit-secret",
    "your-512-bit-secret",
    "supersecret",
    "super-secret-key",
    "mysecret",
    "mysecretkey",
    "my-secret",
    "development",
    "session secret",
    "replace me",
    "replace-with-a-long-random-secret",
    "complex_password_at_least_32_characters_long",
    "a secret with minimum length of 32 characters",
    "averylogphrasebiggerthanthirtytwochars",
    "some secret hurr",
    "something-very-secret",
    "secret-key-of-at-least-32-characters",
    "thisisasecret",
    "password",
    "0123456789abcdef0123456789abcdef",
    "abcdefghijklmnopqrstuvwxyz012345",
  ].map(normalizeSecret),
);

/** Lowercase letters and digits only: the part of a secret a person would recognise. */
function normalizeSecret(secret: string): string {
  return secret.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/**
 * Why a secret is too predictable to sign sessions with, or `undefined` when
 * it looks random. Random bytes in base64url or hex never match: these are the
 * shapes people type.
 */
function predictableSecret(secret: string | Uint8Array, bytes: Buffer): string | undefined {
  if (new Set(bytes).size < 8) return "has too few distinct bytes to be random";
  if (typeof secret !== "string") return undefined;
  const normalized = normalizeSecret(secret);
  if (WELL_KNOWN_SECRETS.has(normalized)) return "is a well-known example secret";
  // "keyboard cat keyboard cat keyboard cat", "abcabcabc…": one short unit repeated.
  for (let unit = 1; unit <= normalized.length / 2; unit++) {
    if (normalized.length % unit === 0 && normalized.slice(unit) === normalized.slice(0, -unit)) {
      return `repeats ${JSON.stringify(normalized.slice(0, unit))}`;
    }
  }
  // "correct horse battery staple": lowercase words and separators, chosen by a person.
  if (/^[a-z]+(?:[\s_.-]+[a-z]+){2,}$/.test(secret.trim())) return "is a phrase of words";
  // "abcdefgh…", "12345678…": nearly all a run of consecutive characters.
  let steps = 0;
  for (let i = 1; i < secret.length; i++) {
    if (Math.abs(secret.charCodeAt(i) - secret.charCodeAt(i - 1)) === 1) steps++;
  }
  if (steps * 4 >= secret.length * 3) return "is mostly a run of consecutive characters";
  return undefined;
}

function isCanonical(encoded: string, offset: number): boolean {
  return CANONICAL_LAST.includes(encoded.charAt(offset + ENCODED_LENGTH - 1));
}

/** A fresh session id: 256 random bits, base64url. */
export function generateSessionId(): string {
  return randomBytes(ID_BYTES).toString("base64url");
}

// crypto.hash() (Node >= 20.12) is a one-shot SHA-256 without a Hash object: several times cheaper.
const oneShotHash = (
  crypto as { hash?: (algorithm: string, data: string, encoding: "hex") => string }
).hash;

/** The store key of an id: lowercase hex SHA-256. Stores never see the id itself. */
export function storeKeyOf(id: string): string {
  return rememberStoreKey(
    oneShotHash === undefined
      ? createHash("sha256").update(id).digest("hex")
      : oneShotHash("sha256", id, "hex"),
  );
}

/**
 * Checks the rotation list at start-up and returns the secrets as keys.
 * Throws `INVALID_CONFIG` for an empty list, a missing secret (naming the
 * likely unset environment variable), a secret under 32 bytes, a well-known
 * documentation secret, or a predictable one: few distinct bytes, a repeated
 * unit, a phrase of words, a run of consecutive characters.
 */
export function prepareSecrets(secrets: readonly (string | Uint8Array)[] | undefined): Buffer[] {
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new SessionError(
      ErrorCode.INVALID_CONFIG,
      "secrets: pass a non-empty list; the first signs, all verify (rotate by putting a new secret first)",
    );
  }
  return secrets.map((secret, index) => {
    if (typeof secret !== "string" && !(secret instanceof Uint8Array)) {
      throw new SessionError(
        ErrorCode.INVALID_CONFIG,
        secret === undefined || secret === ""
          ? `secrets[${index}] is ${secret === undefined ? "undefined" : "empty"}: if it comes from an environment variable (such as SESSION_SECRET), that variable is not set. ${HOW_TO_MAKE_A_SECRET}`
          : `secrets[${index}] must be a string or bytes (got ${secret === null ? "null" : typeof secret})`,
      );
    }
    const bytes = typeof secret === "string" ? Buffer.from(secret, "utf8") : Buffer.from(secret);
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new SessionError(
        ErrorCode.INVALID_CONFIG,
        bytes.length === 0
          ? `secrets[${index}] is empty: if it comes from an environment variable (such as SESSION_SECRET), that variable is set to "". ${HOW_TO_MAKE_A_SECRET}`
          : `secrets[${index}] is ${bytes.length} bytes; use at least ${MIN_SECRET_BYTES} random bytes. ${HOW_TO_MAKE_A_SECRET}`,
      );
    }
    const reason = predictableSecret(secret, bytes);
    if (reason !== undefined) {
      throw new SessionError(
        ErrorCode.INVALID_CONFIG,
        `secrets[${index}] ${reason}, so anyone could guess it and forge sessions. ${HOW_TO_MAKE_A_SECRET}`,
      );
    }
    return bytes;
  });
}

/** Encodings a {@link Mac} digest is returned in: strings, which cost no Buffer. */
export type MacEncoding = "latin1" | "base64url" | "hex";

/** HMAC-SHA256 of `prefix + id` under one secret, as a string in `encoding`. */
export type Mac = (id: string, encoding: MacEncoding) => string;

/** SHA-256's block size: HMAC pads its key to one block. */
const BLOCK_BYTES = 64;
/** SHA-256's digest size. */
const DIGEST_BYTES = 32;
/** Longest id (UTF-16 units) the two-hash path takes; session ids are 43. */
const MAX_FAST_ID_LENGTH = 64;

type OneShotHash = (algorithm: string, data: Uint8Array, encoding: MacEncoding) => string;

/**
 * HMAC-SHA256 (RFC 2104) of `prefix + id` under `secret`. Where Node has the
 * one-shot `crypto.hash()`, the two hashes of the construction run on
 * preallocated buffers with the padded keys written once, and the digests come
 * back as strings (a Buffer result costs more than the hash itself): a
 * fraction of the cost of a `createHmac()` object per token, the same bytes
 * (checked against `createHmac` and the RFC 4231 vectors in the tests).
 * Elsewhere, and for longer input, `createHmac` with the key imported once.
 */
export function createMac(secret: Buffer, prefix: string): Mac {
  const key = createSecretKey(secret);
  const slow: Mac = (id, encoding) =>
    createHmac("sha256", key)
      .update(prefix + id)
      .digest(encoding === "latin1" ? "binary" : encoding);
  const hash = oneShotHash as OneShotHash | undefined;
  if (hash === undefined) return slow;
  // A key longer than a block is replaced by its hash, as RFC 2104 says.
  const padded = Buffer.alloc(BLOCK_BYTES);
  (secret.length > BLOCK_BYTES ? createHash("sha256").update(secret).digest() : secret).copy(
    padded,
  );
  const prefixBytes = Buffer.byteLength(prefix, "utf8");
  // Inner message: (key XOR ipad) ‖ prefix ‖ id. Outer: (key XOR opad) ‖ inner digest.
  // Room for any id of MAX_FAST_ID_LENGTH units: at most 3 UTF-8 bytes each.
  const inner = Buffer.alloc(BLOCK_BYTES + prefixBytes + 3 * MAX_FAST_ID_LENGTH);
  const outer = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES);
  for (let i = 0; i < BLOCK_BYTES; i++) {
    inner[i] = (padded[i] as number) ^ 0x36;
    outer[i] = (padded[i] as number) ^ 0x5c;
  }
  padded.fill(0);
  inner.write(prefix, BLOCK_BYTES, "utf8");
  const idAt = BLOCK_BYTES + prefixBytes;
  // The inner message of a session id (43 ASCII bytes), as a view made once.
  const sessionIdInner = inner.subarray(0, idAt + ENCODED_LENGTH);
  return (id, encoding) => {
    if (id.length > MAX_FAST_ID_LENGTH) return slow(id, encoding);
    const written = inner.write(id, idAt, "utf8");
    const message = written === ENCODED_LENGTH ? sessionIdInner : inner.subarray(0, idAt + written);
    outer.write(hash("sha256", message, "latin1"), BLOCK_BYTES, "latin1");
    return hash("sha256", outer, encoding);
  };
}

/** Signs and verifies session tokens bound to one cookie name. */
export interface TokenSigner {
  /** `<id>.<base64url HMAC-SHA256>` signed with the first secret. */
  sign(id: string): string;
  /**
   * The id inside a token, and which secret verified it; `null` for anything
   * malformed, non-canonical or forged. Never throws; constant-time compare.
   */
  verify(token: string): { readonly id: string; readonly secretIndex: number } | null;
}

/** Creates a {@link TokenSigner} for one cookie name over a rotation list of secrets. */
export function createTokenSigner(name: string, secrets: readonly Buffer[]): TokenSigner {
  const prefix = `${CONTEXT}\0${name}\0`;
  const keys = secrets.map((secret) => createMac(secret, prefix));
  const first = keys[0];
  if (first === undefined) throw new TypeError("createTokenSigner: no secrets");
  // Compared in place: verify() is synchronous, so one pair of buffers serves every call.
  const presented = Buffer.alloc(DIGEST_BYTES);
  const expected = Buffer.alloc(DIGEST_BYTES);
  return {
    sign: (id) => `${id}.${first(id, "base64url")}`,
    verify(token) {
      // Length, alphabet and canonical form are checked before any HMAC.
      if (
        typeof token !== "string" ||
        token.length !== TOKEN_LENGTH ||
        !TOKEN.test(token) ||
        !isCanonical(token, 0) ||
        !isCanonical(token, ENCODED_LENGTH + 1)
      ) {
        return null;
      }
      const id = token.slice(0, ENCODED_LENGTH);
      presented.write(token.slice(ENCODED_LENGTH + 1), "base64url");
      for (let i = 0; i < keys.length; i++) {
        expected.write((keys[i] as Mac)(id, "latin1"), "latin1");
        if (timingSafeEqual(presented, expected)) return { id, secretIndex: i };
      }
      return null;
    },
  };
}

/**
 * The handle of a store key shown to users in "your devices" lists: an HMAC
 * under the signing secret with its own context, so a page never carries the
 * storage key and a handle cannot be forged or turned back into one.
 */
export function createHandleHasher(secret: Buffer): (key: string) => string {
  const key = createSecretKey(secret);
  return (storeKey) =>
    createHmac("sha256", key)
      .update(`sessionkit/session-handle/v1\0${storeKey}`)
      .digest("base64url");
}

/** A keyed hash of an id for logs and events: correlates events, reveals nothing. */
export function createIdHasher(salt: Buffer): (id: string) => string {
  return (id) => createHmac("sha256", salt).update(id).digest("hex").slice(0, 16);
}
