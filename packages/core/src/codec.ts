import { ErrorCode, SessionError } from "./errors.js";

/**
 * Turns session contents into the string a store keeps, and back. `encode`
 * must be deterministic (equal values give equal strings), since core compares
 * encodings to find what changed.
 */
export interface SessionCodec {
  /** Encode a JSON-compatible value. Throw for values it cannot represent. */
  encode(value: unknown): string;
  /** Decode a string produced by `encode`. Throw for anything else. */
  decode(text: string): unknown;
}

/** Keys that could reach an object's prototype when data is later merged or assigned. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  "__proto__",
  "constructor",
  "prototype",
]);

function dropPrototypeKeys(this: unknown, key: string, value: unknown): unknown {
  // JSON.parse makes "__proto__" an own data property, harmless by itself but
  // a prototype write for any later Object.assign or naive deep merge: drop it.
  return key === "__proto__" ? undefined : value;
}

/**
 * The default codec: JSON. Decoding never alters prototypes (`__proto__` keys
 * are dropped); encoding rejects BigInt and cycles with `INVALID_DATA`.
 * JSON escapes NUL and lone surrogates, so every store keeps the result
 * exactly.
 */
export const jsonCodec: SessionCodec = {
  encode(value) {
    try {
      return JSON.stringify(value);
    } catch (error) {
      throw new SessionError(
        ErrorCode.INVALID_DATA,
        "session data cannot be encoded as JSON (BigInt values and cycles are not supported)",
        { cause: error },
      );
    }
  },
  decode(text) {
    // A reviver makes JSON.parse several times slower, so it runs only when a
    // "__proto__" key is possible: spelled out, or hidden behind a \u escape
    // ("\u005f_proto__" parses to "__proto__"). Our own encodings have \u
    // escapes only for control characters and lone surrogates.
    return text.includes("__proto__") || text.includes("\\u")
      ? JSON.parse(text, dropPrototypeKeys)
      : JSON.parse(text);
  },
};
