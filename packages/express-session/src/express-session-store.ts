import {
  ErrorCode,
  isSessionStore,
  iterateKeys,
  SessionError,
  type SessionRecord,
  type SessionStore,
  storeKeyOf,
} from "@sessionkit/core";
import type { Request } from "express";
import { type SessionData, Store } from "express-session";

/** Options of {@link createExpressSessionStore}. */
export interface ExpressSessionStoreOptions {
  /**
   * How long a session lives in the store when its cookie has no expiry
   * (express-session's default browser-session cookie, `maxAge` unset), in ms.
   * With `cookie.maxAge` set, the cookie's `expires` decides instead.
   * @default 86400000 (1 day)
   */
  readonly ttlMs?: number;
  /**
   * The owner of a session, for the store's per-user index (`listByUser`,
   * `destroyByUser`). Return `undefined` for anonymous sessions.
   * @default none: no session has an owner
   */
  readonly userId?: (session: SessionData) => string | undefined;
  /**
   * Largest JSON of one session, in bytes (UTF-8). A larger save fails with a
   * `SessionError` of code `PAYLOAD_TOO_LARGE` and writes nothing.
   * @default 65536
   */
  readonly maxPayloadBytes?: number;
  /** Keys fetched per page by `all()`. @default 500 */
  readonly pageSize?: number;
  /** Clock for `ttlMs`, epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** Callback of `get`. */
export type GetCallback = (error: unknown, session?: SessionData | null) => void;
/** Callback of `set`, `destroy`, `touch` and `clear`. */
export type DoneCallback = (error?: unknown) => void;
/** Callback of `all`. */
export type AllCallback = (error: unknown, sessions?: SessionData[] | null) => void;
/** Callback of `length`. */
export type LengthCallback = (error: unknown, length?: number) => void;

/** What a session object was loaded with (or last saved as) in this process. */
interface Loaded {
  readonly version: number;
  readonly createdAt: number;
}

// Set on the data get() returns, read back in createSession(): symbols are not
// copied by express-session's Session constructor nor by JSON, so the mark is
// invisible to the app and never stored.
const LOADED = Symbol("sessionkit.loaded");

const DAY_MS = 86_400_000;
// Each round of last-writer-wins has one winner; a save that loses this many
// rounds in a row is under pathological contention.
const MAX_WRITE_ATTEMPTS = 16;

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`createExpressSessionStore: ${name} must be a positive integer`);
  }
  return value;
}

function keyOf(sid: unknown): string {
  if (typeof sid !== "string" || sid.length === 0) {
    throw new TypeError("express-session store: the session id must be a non-empty string");
  }
  return storeKeyOf(sid);
}

/** Calls back on a later tick, so a throwing callback is an ordinary uncaught exception. */
function settle<T>(
  work: Promise<T>,
  callback: ((error: unknown, value?: T) => void) | undefined,
): Promise<T> | undefined {
  if (callback === undefined) return work;
  void work.then(
    (value) => process.nextTick(callback, null, value),
    (error: unknown) => process.nextTick(callback, error),
  );
  return undefined;
}

/**
 * An express-session `Store` backed by any sessionkit {@link SessionStore}.
 * Each method takes a callback, as express-session calls it, or without one
 * returns a promise.
 *
 * Stores see `storeKeyOf(sid)` (hex SHA-256), never a session id (A4).
 * Saving a session loaded from this store is a compare-and-set on the version
 * it was loaded with; losing to a concurrent save of the same session, it
 * retries on the newer version (last writer wins, as express-session expects),
 * but a session destroyed or expired meanwhile is never recreated: that late
 * save is dropped (A18). A session express-session generated (new visitor,
 * `regenerate()`) is created.
 */
export class ExpressSessionStore extends Store {
  readonly #store: SessionStore;
  readonly #ttlMs: number;
  readonly #userId: ((session: SessionData) => string | undefined) | undefined;
  readonly #maxPayloadBytes: number;
  readonly #pageSize: number;
  readonly #now: () => number;
  // Keyed by express-session's Session objects: what each was loaded as.
  readonly #loaded = new WeakMap<object, Loaded>();

  constructor(store: SessionStore, options: ExpressSessionStoreOptions = {}) {
    super();
    if (!isSessionStore(store)) {
      throw new TypeError(
        "createExpressSessionStore(store): pass a sessionkit SessionStore (get, set, destroy, capabilities)",
      );
    }
    this.#store = store;
    this.#ttlMs = positiveInteger("ttlMs", options.ttlMs ?? DAY_MS);
    this.#maxPayloadBytes = positiveInteger("maxPayloadBytes", options.maxPayloadBytes ?? 65_536);
    this.#pageSize = positiveInteger("pageSize", options.pageSize ?? 500);
    if (options.userId !== undefined && typeof options.userId !== "function") {
      throw new TypeError("createExpressSessionStore: userId must be a function");
    }
    this.#userId = options.userId;
    this.#now = options.now ?? Date.now;
  }

  /** The sessionkit store underneath. */
  get store(): SessionStore {
    return this.#store;
  }

  /** The session stored under `sid`, or `null` when it is missing, expired or unreadable. */
  override get(sid: string): Promise<SessionData | null>;
  override get(sid: string, callback: GetCallback): void;
  override get(sid: string, callback?: GetCallback): Promise<SessionData | null> | undefined {
    return settle(this.#get(sid), callback);
  }

  /** Creates or replaces the session under `sid` (see the class notes on concurrency). */
  override set(sid: string, session: SessionData): Promise<void>;
  override set(sid: string, session: SessionData, callback: DoneCallback): void;
  override set(
    sid: string,
    session: SessionData,
    callback?: DoneCallback,
  ): Promise<void> | undefined {
    return settle(this.#set(sid, session), callback);
  }

  /** Deletes the session under `sid`; a missing one is not an error. */
  override destroy(sid: string): Promise<void>;
  override destroy(sid: string, callback: DoneCallback): void;
  override destroy(sid: string, callback?: DoneCallback): Promise<void> | undefined {
    return settle(
      (async () => {
        await this.#store.destroy(keyOf(sid));
      })(),
      callback,
    );
  }

  /**
   * Pushes the session's expiry to its cookie's `expires` (or now + `ttlMs`)
   * without rewriting data. Never recreates a missing session, never shortens.
   */
  override touch(sid: string, session: SessionData): Promise<void>;
  override touch(sid: string, session: SessionData, callback: DoneCallback): void;
  override touch(
    sid: string,
    session: SessionData,
    callback?: DoneCallback,
  ): Promise<void> | undefined {
    return settle(this.#touch(sid, session), callback);
  }

  /**
   * Every live session, as an array: the store holds only hashes of session
   * ids, so the ids themselves cannot be listed. Needs the store's `keys`
   * capability, else fails with `UNSUPPORTED`.
   */
  override all(): Promise<SessionData[]>;
  override all(callback: AllCallback): void;
  override all(callback?: AllCallback): Promise<SessionData[]> | undefined {
    return settle(this.#all(), callback);
  }

  /** Number of live sessions. Needs the store's `count` capability, else fails with `UNSUPPORTED`. */
  override length(): Promise<number>;
  override length(callback: LengthCallback): void;
  override length(callback?: LengthCallback): Promise<number> | undefined {
    return settle(
      (async () => {
        const store = this.#store;
        if (!store.capabilities.count || store.count === undefined)
          throw this.#unsupported("count");
        return store.count();
      })(),
      callback,
    );
  }

  /** Deletes every session of the store. Needs the store's `clear` capability, else fails with `UNSUPPORTED`. */
  override clear(): Promise<void>;
  override clear(callback: DoneCallback): void;
  override clear(callback?: DoneCallback): Promise<void> | undefined {
    return settle(
      (async () => {
        const store = this.#store;
        if (!store.capabilities.clear || store.clear === undefined)
          throw this.#unsupported("clear");
        await store.clear();
      })(),
      callback,
    );
  }

  /**
   * express-session turns stored data into its `Session` object here; the
   * version the data was loaded with is remembered for the compare-and-set of
   * the next save.
   */
  override createSession(req: Request, data: SessionData): ReturnType<Store["createSession"]> {
    const loaded = (data as unknown as Record<symbol, Loaded | undefined>)[LOADED];
    const session = super.createSession(req, data);
    if (loaded !== undefined) this.#loaded.set(session, loaded);
    return session;
  }

  async #get(sid: string): Promise<SessionData | null> {
    const record = await this.#store.get(keyOf(sid));
    if (record === null) return null;
    const data = parse(record.payload);
    // A corrupt or foreign record is no session, never a crash (A29).
    if (data === null) return null;
    const cookie = data.cookie as { expires?: unknown } | undefined;
    // A store-side touch() moved the expiry without rewriting the payload:
    // report the real one, as a save would have stored it.
    if (cookie !== undefined && cookie !== null && typeof cookie === "object" && cookie.expires) {
      cookie.expires = new Date(record.expiresAt).toISOString();
    }
    Object.defineProperty(data, LOADED, {
      value: { version: record.version, createdAt: record.createdAt } satisfies Loaded,
      enumerable: false,
    });
    return data as unknown as SessionData;
  }

  async #set(sid: string, session: SessionData): Promise<void> {
    const key = keyOf(sid);
    const payload = this.#encode(session);
    const expiresAt = this.#expiresAt(session);
    const userId = this.#userId?.(session);
    const loaded = this.#loaded.get(session);
    // A session loaded from this store: compare-and-set on its version.
    // A new one: create. Anything else: read first.
    let expected: Loaded | null | undefined = loaded ?? (isTracked(session) ? null : undefined);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      if (expected === undefined) {
        const current = await this.#store.get(key);
        if (current === null && (loaded !== undefined || attempt > 0)) {
          // Destroyed or expired since it was loaded: never resurrect (A18).
          return;
        }
        expected =
          current === null ? null : { version: current.version, createdAt: current.createdAt };
      }
      const version = expected === null ? 1 : expected.version + 1;
      const record: SessionRecord = {
        payload,
        expiresAt,
        createdAt: expected === null ? this.#now() : expected.createdAt,
        version,
        ...(userId === undefined || userId === "" ? {} : { userId }),
      };
      const written = await this.#store.set(key, record, {
        ifVersion: expected === null ? 0 : expected.version,
      });
      if (written) {
        if (isTracked(session)) {
          this.#loaded.set(session, { version, createdAt: record.createdAt });
        }
        return;
      }
      // Someone else wrote or deleted it meanwhile: look again.
      expected = undefined;
    }
    throw new SessionError(
      ErrorCode.CONFLICT,
      "express-session store: the session kept changing during the save",
      { store: this.#store.name, operation: "set" },
    );
  }

  async #touch(sid: string, session: SessionData): Promise<void> {
    const key = keyOf(sid);
    const expiresAt = this.#expiresAt(session);
    const store = this.#store;
    if (store.capabilities.touch && store.touch !== undefined) {
      // false means missing or expired: nothing to extend, nothing to recreate.
      await store.touch(key, expiresAt);
      return;
    }
    // Without a native touch: rewrite the stored record with a later expiry,
    // conditionally, so a concurrent save or destroy wins over the touch.
    const current = await store.get(key);
    if (current === null || current.expiresAt >= expiresAt) return;
    await store.set(
      key,
      { ...current, expiresAt, version: current.version + 1 },
      { ifVersion: current.version },
    );
  }

  async #all(): Promise<SessionData[]> {
    const store = this.#store;
    if (!store.capabilities.keys || store.keys === undefined) throw this.#unsupported("keys");
    const sessions: SessionData[] = [];
    const seen = new Set<string>();
    for await (const key of iterateKeys(store, { pageSize: this.#pageSize })) {
      if (seen.has(key)) continue;
      seen.add(key);
      const record = await store.get(key);
      const data = record === null ? null : parse(record.payload);
      if (data !== null) sessions.push(data as unknown as SessionData);
    }
    return sessions;
  }

  #encode(session: SessionData): string {
    let payload: string | undefined;
    try {
      payload = JSON.stringify(session);
    } catch (error) {
      throw new SessionError(
        ErrorCode.INVALID_DATA,
        "express-session store: the session cannot be encoded as JSON (a BigInt or a cycle)",
        { store: this.#store.name, operation: "set", cause: error },
      );
    }
    if (typeof payload !== "string" || !payload.startsWith("{")) {
      throw new TypeError("express-session store: a session must be an object");
    }
    if (Buffer.byteLength(payload, "utf8") > this.#maxPayloadBytes) {
      throw new SessionError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        `express-session store: the session is larger than ${this.#maxPayloadBytes} bytes`,
        { store: this.#store.name, operation: "set" },
      );
    }
    return payload;
  }

  #expiresAt(session: SessionData): number {
    const expires = (session as { cookie?: { expires?: unknown } } | null)?.cookie?.expires;
    if (expires instanceof Date || typeof expires === "string" || typeof expires === "number") {
      const at = new Date(expires).getTime();
      if (Number.isSafeInteger(at)) return at;
    }
    return this.#now() + this.#ttlMs;
  }

  #unsupported(capability: string): SessionError {
    return new SessionError(
      ErrorCode.UNSUPPORTED,
      `express-session store: the "${this.#store.name}" store does not declare the "${capability}" capability`,
      { store: this.#store.name, operation: capability },
    );
  }
}

/**
 * True for express-session's own `Session` objects (they carry the request and
 * id as hidden properties), as opposed to a plain object passed to `set()` directly.
 */
function isTracked(session: SessionData): boolean {
  const candidate = session as unknown as { id?: unknown; req?: unknown };
  return typeof candidate.id === "string" && typeof candidate.req === "object";
}

function parse(payload: string): Record<string, unknown> | null {
  try {
    const data: unknown = JSON.parse(payload);
    return data !== null && typeof data === "object" && !Array.isArray(data)
      ? (data as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * Wraps any sessionkit store as an express-session `Store`: move an existing
 * express-session app to sessionkit's Redis, PostgreSQL, SQLite or memory store
 * by changing the `store` line.
 *
 * @example
 * ```ts
 * import session from "express-session";
 * import { createExpressSessionStore } from "@sessionkit/express-session";
 * import { createRedisStore } from "@sessionkit/store-redis";
 *
 * app.use(
 *   session({
 *     secret: process.env.SESSION_SECRET as string,
 *     resave: false,
 *     saveUninitialized: false,
 *     store: createExpressSessionStore(createRedisStore({ url: "redis://127.0.0.1:6379" })),
 *   }),
 * );
 * ```
 */
export function createExpressSessionStore(
  store: SessionStore,
  options: ExpressSessionStoreOptions = {},
): ExpressSessionStore {
  return new ExpressSessionStore(store, options);
}
