import type { Config } from "./config.js";
import { serializeCookie } from "./cookie.js";
import type { SessionState } from "./state.js";
import type { ResponseHeader } from "./types.js";

/**
 * The session cookie's `Max-Age` in ms: the session's own `persist(ms)`, none
 * after `persist(false)`, else the manager's `cookie.maxAgeMs`.
 */
export function cookieMaxAge(config: Config, s: SessionState): number | undefined {
  const { persist } = s.contents;
  if (persist === undefined) return config.maxAgeMs;
  return persist === false ? undefined : persist;
}

/** The headers of a response that neither sets nor clears the cookie: frozen, shared. */
export const VARY_ONLY: readonly ResponseHeader[] = Object.freeze([
  Object.freeze(["Vary", "Cookie"] as const),
]);

/**
 * Headers for the response: at most one `Set-Cookie`, `Cache-Control:
 * no-store` whenever the cookie is set or cleared, and always `Vary: Cookie`.
 */
export function responseHeaders(config: Config, s: SessionState): readonly ResponseHeader[] {
  if (s.cookie === "none") return VARY_ONLY;
  const headers: ResponseHeader[] = [["Vary", "Cookie"]];
  if (s.cookie === "clear" || s.id === undefined || s.record === undefined) {
    headers.push(["Set-Cookie", serializeCookie(config.cookieName, "", config.attributes, 0)]);
  } else {
    const token = config.signer.sign(s.id);
    let maxAgeSeconds: number | undefined;
    const maxAgeMs = cookieMaxAge(config, s);
    if (maxAgeMs !== undefined) {
      const untilAbsolute = s.record.createdAt + config.absoluteTimeoutMs - config.now();
      maxAgeSeconds = Math.max(0, Math.floor(Math.min(maxAgeMs, untilAbsolute) / 1000));
    }
    headers.push([
      "Set-Cookie",
      serializeCookie(config.cookieName, token, config.attributes, maxAgeSeconds),
    ]);
    // Header clients have no cookie jar: hand them the token the same way.
    if (config.headerName !== undefined) headers.push([config.headerName, token]);
  }
  headers.push(["Cache-Control", "no-store"]);
  return headers;
}
