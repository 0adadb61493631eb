import { ErrorCode, SessionError } from "./errors.js";

/** Cookie headers longer than this are not read at all. */
export const MAX_COOKIE_HEADER_LENGTH = 64 * 1024;
/** At most this many `name=value` pairs are looked at. */
export const MAX_COOKIE_PAIRS = 1024;
/** Browsers keep at most 4096 bytes of name plus value plus attributes. */
export const MAX_SET_COOKIE_LENGTH = 4096;

const SP = 0x20;
const HTAB = 0x09;

/**
 * Values of every cookie named exactly `name` in a `Cookie` header, in header
 * order, at most `limit` of them.
 *
 * Strict by design: pairs are split on `;`; only SP and HTAB are trimmed;
 * names are compared byte for byte (never percent-decoded, never
 * case-folded, never Unicode-normalised); nameless pairs are ignored; values
 * are returned raw. Runs in time linear in the header length and never throws.
 */
export function findCookieValues(
  header: string | null | undefined,
  name: string,
  limit = 4,
): string[] {
  const found: string[] = [];
  if (typeof header !== "string" || header.length > MAX_COOKIE_HEADER_LENGTH || name === "") {
    return found;
  }
  const length = header.length;
  let position = 0;
  let pairs = 0;
  // The next "=" at or after `position`; only ever moves forward, which keeps
  // the scan linear even for inputs like ";;;;…;=" (no re-scanning per pair).
  let nextEquals = header.indexOf("=");
  while (position < length && pairs < MAX_COOKIE_PAIRS && found.length < limit) {
    let end = header.indexOf(";", position);
    if (end === -1) end = length;
    pairs++;
    let start = position;
    while (start < end && isWhitespace(header.charCodeAt(start))) start++;
    if (nextEquals !== -1 && nextEquals < start) nextEquals = header.indexOf("=", start);
    if (nextEquals !== -1 && nextEquals < end) {
      let nameEnd = nextEquals;
      while (nameEnd > start && isWhitespace(header.charCodeAt(nameEnd - 1))) nameEnd--;
      if (nameEnd - start === name.length && header.startsWith(name, start)) {
        let valueStart = nextEquals + 1;
        let valueEnd = end;
        while (valueStart < valueEnd && isWhitespace(header.charCodeAt(valueStart))) valueStart++;
        while (valueEnd > valueStart && isWhitespace(header.charCodeAt(valueEnd - 1))) valueEnd--;
        found.push(header.slice(valueStart, valueEnd));
      }
    }
    position = end + 1;
  }
  return found;
}

function isWhitespace(code: number): boolean {
  return code === SP || code === HTAB;
}

/** `SameSite` attribute values. */
export type SameSite = "lax" | "strict" | "none";

/** Attributes of the session cookie. */
export interface CookieAttributes {
  readonly path: string;
  readonly domain: string | undefined;
  readonly secure: boolean;
  readonly httpOnly: boolean;
  readonly sameSite: SameSite;
  readonly partitioned: boolean;
}

// RFC 6265 cookie-name is an RFC 9110 token: no CTLs, separators, spaces, "=", ";" or ",".
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Path: printable ASCII without ";" and "," (and no spaces or control characters).
const PATH = /^\/[\x21-\x2B\x2D-\x3A\x3C-\x7E]*$/;
const DOMAIN =
  /^\.?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Checks a cookie name and attributes at start-up and throws
 * `INVALID_CONFIG` naming the rule that failed.
 */
export function validateCookie(name: string, attributes: CookieAttributes): void {
  const fail = (why: string): never => {
    throw new SessionError(ErrorCode.INVALID_CONFIG, `session cookie: ${why}`);
  };
  if (typeof name !== "string" || !TOKEN.test(name)) {
    fail(
      "the name must be a non-empty token (letters, digits and !#$%&'*+-.^_`|~; no spaces, ';', ',' or '=')",
    );
  }
  if (!PATH.test(attributes.path)) {
    fail("path must start with '/' and hold no spaces, control characters, ';' or ','");
  }
  if (attributes.domain !== undefined && !DOMAIN.test(attributes.domain)) {
    fail("domain must be a plain host name (letters, digits, '-' and '.'; no spaces, ';' or ',')");
  }
  if (name.startsWith("__Host-")) {
    if (!attributes.secure) fail("a __Host- cookie must be Secure");
    if (attributes.path !== "/") fail("a __Host- cookie must have Path=/");
    if (attributes.domain !== undefined) fail("a __Host- cookie must not have a Domain");
  }
  if (name.startsWith("__Secure-") && !attributes.secure) fail("a __Secure- cookie must be Secure");
  if (attributes.sameSite === "none" && !attributes.secure) fail("SameSite=None requires Secure");
  if (attributes.partitioned && !attributes.secure) fail("Partitioned requires Secure");
  if (!["lax", "strict", "none"].includes(attributes.sameSite)) {
    fail('sameSite must be "lax", "strict" or "none"');
  }
}

/**
 * Serialises a `Set-Cookie` value. `maxAgeSeconds` undefined makes a browser
 * session cookie; `0` deletes the cookie (with an `Expires` in the past for
 * old user agents).
 */
export function serializeCookie(
  name: string,
  value: string,
  attributes: CookieAttributes,
  maxAgeSeconds?: number,
): string {
  let out = `${name}=${value}; Path=${attributes.path}`;
  if (attributes.domain !== undefined) out += `; Domain=${attributes.domain}`;
  if (maxAgeSeconds !== undefined) {
    out += `; Max-Age=${maxAgeSeconds}`;
    if (maxAgeSeconds === 0) out += "; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
  }
  if (attributes.httpOnly) out += "; HttpOnly";
  if (attributes.secure) out += "; Secure";
  out += `; SameSite=${attributes.sameSite === "lax" ? "Lax" : attributes.sameSite === "strict" ? "Strict" : "None"}`;
  if (attributes.partitioned) out += "; Partitioned";
  if (out.length > MAX_SET_COOKIE_LENGTH) {
    throw new SessionError(
      ErrorCode.COOKIE_TOO_LARGE,
      `the session cookie would be ${out.length} bytes; browsers keep at most ${MAX_SET_COOKIE_LENGTH}`,
    );
  }
  return out;
}
