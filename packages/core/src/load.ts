import type { Config } from "./config.js";
import { findCookieValues } from "./cookie.js";
import { checkLoadedData } from "./data-check.js";
import { decodeContents, emptyContents, isWellFormedRecord } from "./envelope.js";
import { ErrorCode, SessionError } from "./errors.js";
import { readHeader, readQuery } from "./request.js";
import { storeKeyOf } from "./signing.js";
import { newState, type SessionState } from "./state.js";
import { storeCall } from "./store-call.js";
import type { RequestInput } from "./types.js";

/**
 * Validly signed session tokens in one request that are looked up before
 * giving up: enough that a forged duplicate in front never masks the real
 * cookie, few enough that a request costs a bounded number of store reads.
 */
const MAX_TOKEN_LOOKUPS = 3;

/**
 * The live session a verified id names, or `null` when it names none: the
 * record is missing, expired or not ours (both deleted here). Such ids are simply ignored: no Set-Cookie answers them.
 */
async function lookUp(config: Config, id: string, resign: boolean): Promise<SessionState | null> {
  const key = storeKeyOf(id);
  const found: unknown = await storeCall(config, "get", () => config.store.get(key));
  // "Missing" is null; a store that answers undefined means the same.
  if (found === null || found === undefined) {
    config.emit("unknown-id", id);
    return null;
  }
  const now = config.now();
  if (!isWellFormedRecord(found, now)) {
    config.emit("corrupt-record", id);
    await storeCall(config, "destroy", () => config.store.destroy(key));
    return null;
  }
  const record = found;
  if (record.expiresAt <= now || record.createdAt + config.absoluteTimeoutMs <= now) {
    // Enforced here too, in case the store's clock or the configuration differ.
    config.emit("expired", id);
    await storeCall(config, "destroy", () => config.store.destroy(key));
    return null;
  }
  const contents = decodeContents(config.codec, record.payload, config.maxPayloadBytes);
  if (contents === null) {
    config.emit("corrupt-record", id);
    await storeCall(config, "destroy", () => config.store.destroy(key));
    return null;
  }
  const checked = await checkLoadedData(config, contents);
  if (checked.verdict === "invalid") {
    config.emit("invalid-data", id, ErrorCode.INVALID_DATA);
    if (config.onInvalid === "error") {
      throw new SessionError(
        ErrorCode.INVALID_DATA,
        `stored session data is invalid (onInvalid: "error"): ${checked.reason}`,
        { store: config.store.name, operation: "get" },
      );
    }
    // Data a newer deploy wrote stays for the instances that understand it.
    if (!checked.newer) await storeCall(config, "destroy", () => config.store.destroy(key));
    return null;
  }
  const state = newState({ id, key, record, contents, resign });
  if (checked.verdict === "upgraded") {
    config.emit("upgraded", id);
    // Written back at commit with the current version.
    state.mayHaveChanged = true;
  }
  return state;
}

/**
 * Reads the request's session: the token candidates (cookies, then the
 * configured header and query parameter), verified before any store call, and
 * the record of the first that names a live session.
 */
export async function loadState(config: Config, request: RequestInput): Promise<SessionState> {
  const candidates = findCookieValues(readHeader(request, "cookie"), config.cookieName);
  const cookieCount = candidates.length;
  if (config.headerName !== undefined) {
    const value = readHeader(request, config.headerName);
    if (value !== undefined) candidates.push(value.trim());
  }
  if (config.queryName !== undefined) {
    const value = readQuery(request, config.queryName);
    if (value !== undefined) candidates.push(value);
  }
  // Duplicate rule: candidates are tried in order (cookies, then the
  // header, then the query); the first validly signed one that names a live
  // session wins, after at most MAX_TOKEN_LOOKUPS store reads, so a forged
  // duplicate in front never masks the real cookie. Values are never merged.
  let lookups = 0;
  for (let index = 0; index < candidates.length && lookups < MAX_TOKEN_LOOKUPS; index++) {
    const verified = config.signer.verify(candidates[index] as string);
    if (verified === null) continue;
    lookups++;
    const resign = index < cookieCount && verified.secretIndex > 0;
    const state = await lookUp(config, verified.id, resign);
    if (state !== null) return state;
  }
  // A cookie we cannot verify (tampered, or signed by a retired secret) names nothing.
  if (lookups === 0 && candidates.length > 0) config.emit("bad-signature");
  return newState({ contents: emptyContents(config.version) });
}
