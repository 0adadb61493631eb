import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A fresh CSRF token: 256 random bits, base64url. */
export function newCsrfToken(): string {
  return randomBytes(32).toString("base64url");
}

const digest = (value: string): Buffer => createHash("sha256").update(value).digest();

/**
 * Whether the token a form sent equals the one in the session, compared in
 * constant time (on hashes, so differing lengths leak nothing either). No
 * token in the session never matches.
 */
export function csrfTokenMatches(expected: unknown, given: string | null): boolean {
  if (typeof expected !== "string" || expected === "" || given === null) return false;
  return timingSafeEqual(digest(expected), digest(given));
}
