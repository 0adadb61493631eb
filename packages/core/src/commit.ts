import { jsonCodec } from "./codec.js";
import type { Config } from "./config.js";
import { casRetry } from "./conflict.js";
import { validateForWrite } from "./data-check.js";
import { encodeContents } from "./envelope.js";
import { ErrorCode, SessionError } from "./errors.js";
import { expiryFor, shouldTouch, writtenExpiry } from "./expiry.js";
import { cookieMaxAge } from "./response-headers.js";
import { generateSessionId, storeKeyOf } from "./signing.js";
import type { SessionState } from "./state.js";
import { assertStorableRecord, type SessionRecord } from "./store.js";
import { storeCall } from "./store-call.js";
import type { CommitResult } from "./types.js";

/**
 * The write protocol: what a commit stores, with which condition, and which
 * headers the response carries. Every write is conditional on the version the
 * request loaded, so a late commit can never resurrect or overwrite.
 */

type Outcome = CommitResult["outcome"];

/** A new session holds nothing worth storing yet (lazy sessions). */
function isEmpty(s: SessionState): boolean {
  return (
    s.userId === undefined &&
    Object.keys(s.contents.data).length === 0 &&
    Object.keys(s.contents.flash).length === 0
  );
}

/** The stored session's data or owner differs from what this request holds. */
function hasChanged(s: SessionState, record: SessionRecord, payload: string): boolean {
  return payload !== record.payload || s.userId !== record.userId;
}

function checkSize(config: Config, payload: string): void {
  const bytes = Buffer.byteLength(payload, "utf8");
  if (bytes > config.maxPayloadBytes) {
    throw new SessionError(
      ErrorCode.PAYLOAD_TOO_LARGE,
      `the session is ${bytes} bytes encoded; the limit (maxPayloadBytes) is ${config.maxPayloadBytes}`,
    );
  }
}

/**
 * The record to write: size-checked, with this session's expiry
 * and owner, and checked the way every store checks it before any store call.
 */
function buildRecord(
  config: Config,
  s: SessionState,
  payload: string,
  now: number,
  previous: SessionRecord | undefined,
): SessionRecord {
  checkSize(config, payload);
  const createdAt = previous?.createdAt ?? now;
  const base: SessionRecord = {
    payload,
    createdAt,
    version: (previous?.version ?? 0) + 1,
    expiresAt: writtenExpiry(config, s, now, createdAt, previous),
  };
  const record = s.userId === undefined ? base : { ...base, userId: s.userId };
  assertStorableRecord(config.store.name, record);
  return record;
}

function keyTaken(config: Config): SessionError {
  return new SessionError(
    ErrorCode.STORE_ERROR,
    "a freshly generated session key was already taken",
    { store: config.store.name, operation: "set" },
  );
}

async function destroyStored(config: Config, s: SessionState): Promise<Outcome> {
  const { id, key } = s;
  if (id !== undefined && key !== undefined && s.record !== undefined) {
    await storeCall(config, "destroy", () => config.store.destroy(key));
    config.emit("destroyed", id);
    s.cookie = "clear";
  }
  // An anonymous session has no cookie of ours to clear.
  s.record = undefined;
  s.id = undefined;
  s.key = undefined;
  return "destroyed";
}

async function create(
  config: Config,
  s: SessionState,
  payload: string,
  now: number,
): Promise<Outcome> {
  const { store } = config;
  const id = generateSessionId();
  const key = storeKeyOf(id);
  const record = buildRecord(config, s, payload, now, undefined);
  if (!(await storeCall(config, "set", () => store.set(key, record, { ifVersion: 0 })))) {
    throw keyTaken(config);
  }
  return adopt(config, s, id, key, record, "created");
}

/** The session now lives under `id`: its cookie goes out with the response. */
function adopt(
  config: Config,
  s: SessionState,
  id: string,
  key: string,
  record: SessionRecord,
  outcome: "created" | "regenerated",
): Outcome {
  s.id = id;
  s.key = key;
  s.record = record;
  s.cookie = "set";
  config.emit(outcome, id);
  return outcome;
}

/** Moves `current` from `oldKey` to `newKey` as `next`, conditional on its version. */
async function move(
  config: Config,
  oldKey: string,
  newKey: string,
  current: SessionRecord,
  next: SessionRecord,
  now: number,
): Promise<boolean> {
  const { store } = config;
  if (store.capabilities.rename && store.rename !== undefined) {
    const rename = store.rename.bind(store);
    return storeCall(config, "rename", () =>
      rename(oldKey, newKey, next, { ifVersion: current.version }),
    );
  }
  // Without an atomic rename: first claim the old record by deleting it with a
  // compare-and-set (a record written with an expiry that is not in the future
  // is deleted), so a request that ended or changed it meanwhile wins and
  // nothing is resurrected; then create the new one. A failure in between logs
  // the user out, never leaves two sessions.
  const claim = { ...current, version: current.version + 1, expiresAt: now };
  if (
    !(await storeCall(config, "set", () =>
      store.set(oldKey, claim, { ifVersion: current.version }),
    ))
  ) {
    return false;
  }
  if (!(await storeCall(config, "set", () => store.set(newKey, next, { ifVersion: 0 })))) {
    throw keyTaken(config);
  }
  return true;
}

async function regenerate(config: Config, s: SessionState, now: number): Promise<Outcome> {
  const oldKey = s.key as string;
  const newId = generateSessionId();
  const newKey = storeKeyOf(newId);
  let next: SessionRecord | undefined;
  await casRetry(
    config,
    s,
    (current) => {
      next = buildRecord(config, s, encodeContents(config.codec, s.contents), now, current);
      return move(config, oldKey, newKey, current, next, now);
    },
    () => undefined,
  );
  s.regenerate = false;
  return adopt(config, s, newId, newKey, next as SessionRecord, "regenerated");
}

function update(config: Config, s: SessionState, payload: string, now: number): Promise<Outcome> {
  const { store } = config;
  const key = s.key as string;
  let next: SessionRecord | undefined;
  const attempt = (current: SessionRecord, retry: number): Promise<boolean> => {
    // After a merge the contents changed: encode them again.
    const nextPayload = retry === 0 ? payload : encodeContents(config.codec, s.contents);
    const record = buildRecord(config, s, nextPayload, now, current);
    next = record;
    return storeCall(config, "set", () => store.set(key, record, { ifVersion: current.version }));
  };
  const landed = (): Outcome => {
    // s.record is the record the write was conditioned on (after a merge, the
    // one it re-read): a persistent cookie is re-issued when the end moved,
    // as by a touch; the cookie the browser holds covers an end that stayed.
    const moved = (next as SessionRecord).expiresAt !== (s.record as SessionRecord).expiresAt;
    s.record = next;
    if (s.resign || s.persistChanged || (moved && cookieMaxAge(config, s) !== undefined)) {
      s.cookie = "set";
    }
    return "updated";
  };
  try {
    return casRetry(config, s, attempt, landed);
  } catch (error) {
    // The first record was refused before any store call (size, storability).
    return Promise.reject(error);
  }
}

async function touchIfDue(config: Config, s: SessionState, now: number): Promise<Outcome> {
  const { store } = config;
  const key = s.key as string;
  const record = s.record as SessionRecord;
  const expiresAt = expiryFor(config, s, now, record.createdAt);
  if (!shouldTouch(config, record, expiresAt)) return "unchanged";
  let touched: SessionRecord | undefined;
  if (store.capabilities.touch && store.touch !== undefined) {
    const touch = store.touch.bind(store);
    if (
      await storeCall(config, "touch", () => touch(key, expiresAt, { ifVersion: record.version }))
    )
      touched = { ...record, expiresAt };
  } else {
    const next = { ...record, version: record.version + 1, expiresAt };
    if (await storeCall(config, "set", () => store.set(key, next, { ifVersion: record.version })))
      touched = next;
  }
  // A failed touch means another request wrote meanwhile (and extended the
  // expiry itself) or the session is gone; either way nothing to do here.
  if (touched === undefined) return "unchanged";
  s.record = touched;
  if (cookieMaxAge(config, s) !== undefined) s.cookie = "set";
  return "touched";
}

/** The answer of every commit that writes nothing and touches nothing. */
export const UNCHANGED: Promise<Outcome> = Promise.resolve("unchanged");
/** The answer of a commit of a session another request ended. */
const DROPPED: Promise<Outcome> = Promise.resolve("dropped");

/** Object values handed out that the commit compares one by one; past this, it compares the whole session. */
const MAX_HANDED_OUT = 8;

/**
 * Notes an object value `get()` hands out while nothing else could have
 * changed the contents: its JSON now, which the commit compares with its JSON
 * then. Encoding the values handed out (a list of roles, a profile) costs a
 * fraction of encoding the whole session to compare it with the stored
 * payload. Only with the default JSON codec, whose encoding of a part is the
 * part's encoding in the whole; with another codec, or past
 * `MAX_HANDED_OUT` values, the whole session is compared as before.
 */
export function handOut(config: Config, s: SessionState, key: string, value: object): void {
  const handed = s.handedOut;
  if (handed !== undefined) {
    for (let i = 0; i < handed.length; i += 2) if (handed[i] === key) return;
  }
  if (config.codec !== jsonCodec || (handed !== undefined && handed.length >= 2 * MAX_HANDED_OUT)) {
    s.mayHaveChanged = true;
    return;
  }
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    s.mayHaveChanged = true; // the commit's encoding reports it
    return;
  }
  if (handed === undefined) s.handedOut = [key, json];
  else handed.push(key, json);
}

/** Whether a value handed out no longer encodes as it did then (a handler changed it). */
function handedOutChanged(s: SessionState, handed: readonly string[]): boolean {
  for (let i = 0; i < handed.length; i += 2) {
    let json: string | undefined;
    try {
      json = JSON.stringify(s.contents.data[handed[i] as string]);
    } catch {
      return true; // the commit's encoding reports it
    }
    if (json !== handed[i + 1]) return true;
  }
  return false;
}

/**
 * Writes what changed, choosing one outcome by the predicates below. A loaded
 * session whose contents encode as they were stored and whose touch is not due
 * (the common read-only request) is answered at once, without a store call or
 * an async frame; contents nothing could have changed are not even encoded.
 */
export function commitState(config: Config, s: SessionState): Promise<Outcome> {
  // Once a value handed out changed, the whole session is compared from then on.
  if (!s.mayHaveChanged && s.handedOut !== undefined && handedOutChanged(s, s.handedOut)) {
    s.mayHaveChanged = true;
  }
  const loaded = s.record;
  if (
    loaded === undefined ||
    s.closed ||
    s.destroyed ||
    s.regenerate ||
    s.userId !== loaded.userId
  ) {
    return writeState(config, s, undefined);
  }
  let payload: string | undefined;
  if (s.mayHaveChanged) {
    try {
      payload = encodeContents(config.codec, s.contents);
    } catch (error) {
      return Promise.reject(error);
    }
    if (payload !== loaded.payload) return writeState(config, s, payload);
  }
  if (shouldTouch(config, loaded, expiryFor(config, s, config.now(), loaded.createdAt))) {
    return writeState(config, s, payload);
  }
  if (s.resign) s.cookie = "set";
  return UNCHANGED;
}

/** The write itself; `encoded` is the contents' payload when the caller has it already. */
function writeState(
  config: Config,
  s: SessionState,
  encoded: string | undefined,
): Promise<Outcome> {
  // Closed by a dropped commit: never a record, never a token.
  if (s.closed) return DROPPED;
  if (s.destroyed) return destroyStored(config, s);
  const now = config.now();
  const loaded = s.record;
  let payload: string;
  try {
    // Nothing could have changed the contents: the stored payload is still theirs.
    payload =
      encoded ??
      (loaded !== undefined && !s.mayHaveChanged && !s.regenerate
        ? loaded.payload
        : encodeContents(config.codec, s.contents));
  } catch (error) {
    return Promise.reject(error);
  }
  if (loaded === undefined) {
    s.regenerate = false;
    if (isEmpty(s)) return UNCHANGED;
  }
  const writes = loaded === undefined || s.regenerate || hasChanged(s, loaded, payload);
  const write = (): Promise<Outcome> => {
    if (loaded === undefined) return create(config, s, payload, now);
    if (s.regenerate) return regenerate(config, s, now);
    if (writes) return update(config, s, payload, now);
    return touchIfDue(config, s, now).then((outcome) => {
      if (s.resign) s.cookie = "set";
      return outcome;
    });
  };
  // Checked once, before any write; no promise in between unless the schema is async.
  const checked =
    writes && config.checkWrites ? validateForWrite(config, s.contents.data) : undefined;
  return checked === undefined ? write() : checked.then(write);
}
