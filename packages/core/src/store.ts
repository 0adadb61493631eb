import { ErrorCode, SessionError } from "./errors.js";

/**
 * The store contract: everything a backend implements, in one file.
 *
 * A store never sees a session token. Core hands it a `key`, the lowercase hex
 * SHA-256 of the token (64 characters), so a leaked database holds nothing a
 * client could present. Time is one convention: absolute epoch milliseconds.
 */

/** One stored session. Stores keep it verbatim and hand back equal values. */
export interface SessionRecord {
  /** The encoded session data. A well-formed UTF-16 string with no NUL (core guarantees it). */
  readonly payload: string;
  /** When the record stops existing, epoch ms. A record at or past it is never returned. */
  readonly expiresAt: number;
  /** When the session was first created, epoch ms. Kept across regeneration. */
  readonly createdAt: number;
  /** Positive integer, incremented by core on every data write; the compare-and-set token. */
  readonly version: number;
  /** Owner, for the per-user index. Absent for anonymous sessions. */
  readonly userId?: string | undefined;
}

/** Options of {@link SessionStore.set}. */
export interface SetOptions {
  /**
   * `0`: create; fails if any record exists under the key.
   * `n > 0`: replace only if the stored record exists, is live and has version `n`.
   */
  readonly ifVersion: number;
}

/** Options of {@link SessionStore.touch} and {@link SessionStore.rename}. */
export interface ConditionalOptions {
  /** Act only if the stored record has this version. Omitted: any live version. */
  readonly ifVersion?: number | undefined;
}

/** A page of {@link SessionStore.keys}. */
export interface KeyPage {
  /** Keys of live records. A key may appear on more than one page (Redis SCAN); callers de-duplicate. */
  readonly keys: readonly string[];
  /** Pass back to get the next page; `null` when the listing is complete. */
  readonly cursor: string | null;
}

/** One entry of {@link SessionStore.listByUser}. */
export interface StoredSession {
  readonly key: string;
  readonly record: SessionRecord;
}

/**
 * What a store supports beyond `get`, `set` and `destroy`. Declared once, read
 * only; core and the conformance suite read it instead of sniffing methods.
 * Each `true` promises the method of the same name (and `userIndex` promises
 * `listByUser` and `destroyByUser`).
 */
export interface StoreCapabilities {
  /** `touch()`: extend expiry without rewriting data. */
  readonly touch: boolean;
  /** `rename()`: atomically move a record to a new key (used by `regenerate()`). */
  readonly rename: boolean;
  /** `listByUser()` and `destroyByUser()`. */
  readonly userIndex: boolean;
  /** `count()`. */
  readonly count: boolean;
  /** `clear()`. */
  readonly clear: boolean;
  /** `keys()`. */
  readonly keys: boolean;
  /** `gc()`: the backend has no native expiry and needs expired records pruned. */
  readonly gc: boolean;
  /** `close()`. */
  readonly close: boolean;
}

/**
 * A session backend. Implement `get`, `set`, `destroy` and whatever
 * {@link StoreCapabilities} declares. Every method either resolves or rejects
 * with a `SessionError` whose code is `STORE_UNAVAILABLE`, `STORE_TIMEOUT`,
 * `STORE_BUSY` or `STORE_ERROR`, within the store's own timeout.
 *
 * Run `describeStoreConformance()` from `@sessionkit/conformance` against any
 * implementation: it is the executable form of this contract.
 */
export interface SessionStore {
  /** Short name used in errors and events, such as `"redis"`. */
  readonly name: string;
  /** Frozen capability manifest. */
  readonly capabilities: StoreCapabilities;

  /** The live record under `key`, or `null` when it is missing or expired. */
  get(key: string): Promise<SessionRecord | null>;
  /**
   * Create (`ifVersion: 0`) or compare-and-set. Returns `false`, writing nothing,
   * when the condition fails: so a late write can neither overwrite a newer
   * version nor recreate a destroyed record. A record whose `expiresAt` is not in
   * the future is deleted instead of written (and `true` returned if the condition held).
   */
  set(key: string, record: SessionRecord, options: SetOptions): Promise<boolean>;
  /** Delete the record. Deleting a missing key is not an error. */
  destroy(key: string): Promise<void>;

  /**
   * Move a live record's expiry to `max(stored, expiresAt)` without touching
   * data or version. Never recreates a missing record, never shortens.
   * Returns `false` when the record is missing, expired or at another version.
   */
  touch?(key: string, expiresAt: number, options?: ConditionalOptions): Promise<boolean>;
  /**
   * Atomically delete `oldKey` and store `record` under `newKey`, provided the
   * record under `oldKey` is live (and at `ifVersion`, when given). Returns
   * `false`, changing nothing, otherwise. After `true`, no write to `oldKey`
   * can succeed. Rejects with a `TypeError`, changing nothing, if a live record
   * holds `newKey` (core never reuses a key: it is a hash of a fresh random id).
   */
  rename?(
    oldKey: string,
    newKey: string,
    record: SessionRecord,
    options?: ConditionalOptions,
  ): Promise<boolean>;
  /** Live sessions of a user, in no particular order. */
  listByUser?(userId: string): Promise<StoredSession[]>;
  /** Destroy every session of a user except `exceptKey`. Resolves to how many were destroyed. */
  destroyByUser?(userId: string, options?: { readonly exceptKey?: string }): Promise<number>;
  /** Number of live sessions (may include not-yet-pruned expired ones when `gc` is declared). */
  count?(): Promise<number>;
  /** Delete every session of this store (its prefix, table or namespace only). */
  clear?(): Promise<void>;
  /** One page of keys. Iterating from `cursor: null` to the end visits every key live throughout. */
  keys?(options?: { readonly cursor?: string | null; readonly limit?: number }): Promise<KeyPage>;
  /** Delete expired records; resolves to how many were removed. */
  gc?(): Promise<number>;
  /** Release connections and timers the store created. A client passed in by the user is left open. */
  close?(): Promise<void>;
}

const STORE_KEY = /^[0-9a-f]{64}$/;
// In a /u regex \p{Cs} matches only lone surrogates: paired ones form one code point.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching NUL is the point
const UNSTORABLE = /[\u0000\p{Cs}]/u;
/** `String.prototype.isWellFormed` (ES2024): false exactly when a lone surrogate is present. */
type WellFormed = string & { isWellFormed(): boolean };
// Ten times cheaper than the regex: checked on every payload written.
const hasWellFormed = typeof (String.prototype as Partial<WellFormed>).isWellFormed === "function";
/** Longest user id the per-user index accepts, in UTF-16 code units. */
export const MAX_USER_ID_LENGTH = 512;

/**
 * The last few store keys known to be well formed: those core derived and
 * those a check passed. Every store call checks its key (a load's `get`, then
 * the commit's write), and the pattern test of 64 characters costs about as
 * much as the hash that made the key; equality with a known key is proof
 * enough, as strings are immutable.
 */
const KNOWN_KEYS: string[] = Array.from({ length: 8 }, () => "0".repeat(64));
let nextKnownKey = 0;

/**
 * Records a well-formed store key (one core derived, or one that passed the
 * pattern) so the checks of the calls that follow are an equality test.
 * Internal: only ever given keys that are well formed.
 */
export function rememberStoreKey(key: string): string {
  KNOWN_KEYS[nextKnownKey] = key;
  nextKnownKey = (nextKnownKey + 1) % KNOWN_KEYS.length;
  return key;
}

/** Whether `value` is a store key as core derives it: 64 lowercase hex characters. */
export function isStoreKey(value: unknown): value is string {
  if (typeof value !== "string") return false;
  if (KNOWN_KEYS.includes(value)) return true;
  if (!STORE_KEY.test(value)) return false;
  rememberStoreKey(value);
  return true;
}

/**
 * Whether every store can keep `text` exactly: no NUL character and no lone
 * surrogate (Postgres `text` refuses NUL; UTF-8 clients replace lone surrogates).
 */
export function isStorableText(text: string): boolean {
  return hasWellFormed
    ? (text as WellFormed).isWellFormed() && !text.includes("\0")
    : !UNSTORABLE.test(text);
}

/**
 * Whether `value` has the shape of a {@link SessionStore}: the required
 * methods and a capability manifest. For checking options at start-up.
 */
export function isSessionStore(value: unknown): value is SessionStore {
  if (value === null || typeof value !== "object") return false;
  const store = value as Partial<SessionStore>;
  return (
    typeof store.get === "function" &&
    typeof store.set === "function" &&
    typeof store.destroy === "function" &&
    typeof store.capabilities === "object" &&
    store.capabilities !== null
  );
}

/**
 * Checks a key and record the way every store must before writing, so all
 * stores fail alike: a malformed key or number is a
 * `TypeError`; a payload or user id no backend can hold exactly (a NUL
 * character or a lone surrogate) is a `SessionError` with code `INVALID_DATA`.
 * Core never produces either; the check guards direct callers of a store.
 */
export function assertStorable(storeName: string, key: string, record?: SessionRecord): void {
  if (!isStoreKey(key)) {
    throw new TypeError(`${storeName}: a store key is 64 lowercase hex characters`);
  }
  if (record !== undefined) assertStorableRecord(storeName, record);
}

/**
 * The record half of {@link assertStorable}, for a key already checked (or
 * derived by core): the same `TypeError`s and `INVALID_DATA`.
 */
export function assertStorableRecord(storeName: string, record: SessionRecord): void {
  if (record === null || typeof record !== "object" || typeof record.payload !== "string") {
    throw new TypeError(`${storeName}: record.payload must be a string`);
  }
  for (const field of ["expiresAt", "createdAt", "version"] as const) {
    if (!Number.isSafeInteger(record[field])) {
      throw new TypeError(`${storeName}: record.${field} must be a safe integer`);
    }
  }
  if (record.version < 1) throw new TypeError(`${storeName}: record.version must be at least 1`);
  const { userId } = record;
  if (userId !== undefined) {
    if (typeof userId !== "string" || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH) {
      throw new TypeError(
        `${storeName}: record.userId must be a string of 1 to ${MAX_USER_ID_LENGTH} characters`,
      );
    }
  }
  if (!isStorableText(record.payload) || (userId !== undefined && !isStorableText(userId))) {
    throw new SessionError(
      ErrorCode.INVALID_DATA,
      `${storeName}: the payload or user id holds a NUL character or a lone surrogate, which not every store can keep exactly`,
      { store: storeName, operation: "set" },
    );
  }
}

/** The optional methods of {@link SessionStore}. */
export type OptionalStoreMethod = Exclude<
  keyof SessionStore,
  "name" | "capabilities" | "get" | "set" | "destroy"
>;

/**
 * A store type whose optional methods `M` are present, for a store package's
 * own exported type (so callers of that store need no `?.`).
 *
 * @example
 * ```ts
 * export interface MyStore extends StoreWith<"touch" | "close"> {}
 * ```
 */
export type StoreWith<M extends OptionalStoreMethod> = SessionStore &
  Required<Pick<SessionStore, M>>;

/** The capability names, in a fixed order. */
export const CAPABILITY_NAMES: readonly (keyof StoreCapabilities)[] = Object.freeze([
  "touch",
  "rename",
  "userIndex",
  "count",
  "clear",
  "keys",
  "gc",
  "close",
]);

/** Freezes a capability manifest, filling unspecified entries with `false`. */
export function defineCapabilities(capabilities: Partial<StoreCapabilities>): StoreCapabilities {
  const full = {} as Record<keyof StoreCapabilities, boolean>;
  for (const name of CAPABILITY_NAMES) full[name] = capabilities[name] === true;
  return Object.freeze(full);
}

/** A manifest declaring every capability, for stores that implement the whole contract. */
export const EVERY_CAPABILITY: StoreCapabilities = defineCapabilities({
  touch: true,
  rename: true,
  userIndex: true,
  count: true,
  clear: true,
  keys: true,
  gc: true,
  close: true,
});

/** Iterates every key of a store that declares `keys`, page by page, de-duplicated per page. */
export async function* iterateKeys(
  store: SessionStore,
  options: { readonly pageSize?: number } = {},
): AsyncGenerator<string, void, undefined> {
  if (!store.capabilities.keys || store.keys === undefined) {
    throw new TypeError(`store "${store.name}" does not declare the "keys" capability`);
  }
  let cursor: string | null = null;
  do {
    const page: KeyPage = await store.keys({ cursor, limit: options.pageSize ?? 500 });
    yield* new Set(page.keys);
    cursor = page.cursor;
  } while (cursor !== null);
}
