import type { ResponseHeader } from "./types.js";

/** A header value as the different servers hand it back. */
export type HeaderValue = string | number | readonly string[] | null | undefined;

/**
 * Anything headers can be read from and written to: a Fetch `Headers`, or a
 * small wrapper around a Node response or a framework's reply.
 */
export interface HeaderTarget {
  /** The current value, `null`/`undefined` when absent. */
  get(name: string): HeaderValue;
  /** Replaces the value. */
  set(name: string, value: string): void;
  /** Adds a value, keeping the ones already there (`Set-Cookie`). */
  append(name: string, value: string): void;
}

/**
 * The `Vary` value to send once the response depends on the cookie: the
 * existing list plus `Cookie`, unchanged when it already names `Cookie` or `*`.
 *
 * @example
 * ```ts
 * mergeVary("Accept-Encoding"); // "Accept-Encoding, Cookie"
 * mergeVary(undefined); // "Cookie"
 * ```
 */
export function mergeVary(existing: HeaderValue): string {
  const current = Array.isArray(existing) ? existing.join(", ") : (existing?.toString() ?? "");
  if (current.trim() === "") return "Cookie";
  const parts = current.split(",").map((part) => part.trim().toLowerCase());
  return parts.includes("cookie") || parts.includes("*") ? current : `${current}, Cookie`;
}

/**
 * The `Set-Cookie` list with one more cookie: every cookie already set is
 * kept, each its own header line, never comma-joined.
 *
 * @example
 * ```ts
 * res.setHeader("Set-Cookie", appendSetCookie(res.getHeader("set-cookie"), cookie));
 * ```
 */
export function appendSetCookie(existing: HeaderValue, cookie: string): string[] {
  if (existing === null || existing === undefined) return [cookie];
  return [...(Array.isArray(existing) ? existing : [String(existing)]), cookie];
}

/**
 * Adds a commit's headers to a response: `Set-Cookie` appended (other cookies
 * stay), `Vary` merged with the response's own, every other header replaced.
 *
 * @example
 * ```ts
 * const { headers } = await session.commit();
 * applyHeaders(response.headers, headers);
 * ```
 */
export function applyHeaders(target: HeaderTarget, headers: readonly ResponseHeader[]): void {
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === "set-cookie") target.append(name, value);
    else if (lower === "vary") target.set(name, mergeVary(target.get(name)));
    else target.set(name, value);
  }
}
