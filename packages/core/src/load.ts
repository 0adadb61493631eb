import type { Config } from "./config.js";
import { findCookieValues } from "./cookie.js";
import { checkLoadedData, type LoadedData } from "./data-check.js";
import { type Contents, decodeContents, emptyContents, isWellFormedRecord } from "./envelope.js";
import { ErrorCode, SessionError } from "./errors.js";
import { readHeader, readQuery } from "./request.js";
import { storeKeyOf } from "./signing.js";
import { newState, type SessionState } from "./state.js";
import type { SessionRecord } from "./store.js";
import { storeCall, storeCallThen } from "./store-call.js";
import type { RequestInput } from "./types.js";

/**
 * Validly signed session tokens in one request that are looked up before
 * giving up: enough that a forged duplicate in front never masks the real
 * cookie, few enough that a request costs a bounded number of store reads.
 */
const MAX_TOKEN_LOOKUPS = 3;

/**
 * The live session a verified id names, else what `orElse` finds: the record
 * is missing, expired or not ours (both deleted here). Such ids are simply
 * ignored: no Set-Cookie answers them. The common case, a live record and no
 * schema, settles with the store's answer and no further promise.
 */
function lookUp(
  config: Config,
  id: string,
  resign: boolean,
  orElse: () => Promise<SessionState>,
): Promise<SessionState> {
  const key = storeKeyOf(id);
  const settle = (state: SessionState | null): SessionState | Promise<SessionState> =>
    state ?? orElse();
  return storeCallThen(
    config,
    "get",
    () => config.store.get(key),
    (found: unknown) => {
      const state =
        found === null || found === undefined
          ? ignore(config, "unknown-id", id)
          : readRecord(config, id, key, found, resign);
      return state instanceof Promise ? state.then(settle) : settle(state);
    },
  );
}

/** An id that names nothing usable: reported, and its record (if any) deleted. */
function ignore(
  config: Config,
  event: "unknown-id" | "corrupt-record" | "expired",
  id: string,
  key?: string,
): null | Promise<null> {
  config.emit(event, id);
  return key === undefined ? null : destroyRecord(config, key);
}

/** Deletes the record under `key`; settles with `null`, the answer of an id that names nothing. */
function destroyRecord(config: Config, key: string): Promise<null> {
  return storeCall(config, "destroy", () => config.store.destroy(key)).then(() => null);
}

function readRecord(
  config: Config,
  id: string,
  key: string,
  found: unknown,
  resign: boolean,
): SessionState | null | Promise<SessionState | null> {
  const now = config.now();
  if (!isWellFormedRecord(found, now)) return ignore(config, "corrupt-record", id, key);
  const record = found;
  if (record.expiresAt <= now || record.createdAt + config.absoluteTimeoutMs <= now) {
    // Enforced here too, in case the store's clock or the configuration differ.
    return ignore(config, "expired", id, key);
  }
  const contents = decodeContents(config.codec, record.payload, config.maxPayloadBytes);
  if (contents === null) return ignore(config, "corrupt-record", id, key);
  const checked = checkLoadedData(config, contents);
  return checked instanceof Promise
    ? checked.then((verdict) => admit(config, id, key, record, contents, resign, verdict))
    : admit(config, id, key, record, contents, resign, checked);
}

/** The loaded session once its data is checked; `null` (or INVALID_DATA) when it is invalid. */
function admit(
  config: Config,
  id: string,
  key: string,
  record: SessionRecord,
  contents: Contents,
  resign: boolean,
  checked: LoadedData,
): SessionState | null | Promise<null> {
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
    return checked.newer ? null : destroyRecord(config, key);
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
export function loadState(config: Config, request: RequestInput): Promise<SessionState> {
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
  return tryCandidates(config, candidates, cookieCount, 0, 0);
}

/**
 * Duplicate rule: candidates are tried in order (cookies, then the header,
 * then the query); the first validly signed one that names a live session
 * wins, after at most MAX_TOKEN_LOOKUPS store reads, so a forged duplicate in
 * front never masks the real cookie. Values are never merged.
 */
function tryCandidates(
  config: Config,
  candidates: readonly string[],
  cookieCount: number,
  from: number,
  lookups: number,
): Promise<SessionState> {
  for (let index = from; index < candidates.length && lookups < MAX_TOKEN_LOOKUPS; index++) {
    const verified = config.signer.verify(candidates[index] as string);
    if (verified === null) continue;
    const resign = index < cookieCount && verified.secretIndex > 0;
    return lookUp(config, verified.id, resign, () =>
      tryCandidates(config, candidates, cookieCount, index + 1, lookups + 1),
    );
  }
  // A cookie we cannot verify (tampered, or signed by a retired secret) names nothing.
  if (lookups === 0 && candidates.length > 0) config.emit("bad-signature");
  return Promise.resolve(newState({ contents: emptyContents(config.version) }));
}
