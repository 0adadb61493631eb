import type { SessionStore } from "@sessionkit/core";
import type { Request } from "express";
import { type SessionData, Store } from "express-session";
import {
  allSessions,
  clearSessions,
  countSessions,
  destroySession,
  getSession,
  saveSession,
  touchSession,
} from "./operations.js";
import {
  type BridgeConfig,
  type ExpressSessionStoreOptions,
  resolveBridgeConfig,
} from "./options.js";
import { isTracked, type Loaded, loadedMark } from "./records.js";

/** Callback of `get`. */
export type GetCallback = (error: unknown, session?: SessionData | null) => void;
/** Callback of `set`, `destroy`, `touch` and `clear`. */
export type DoneCallback = (error?: unknown) => void;
/** Callback of `all`. */
export type AllCallback = (error: unknown, sessions?: SessionData[] | null) => void;
/** Callback of `length`. */
export type LengthCallback = (error: unknown, length?: number) => void;

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
 * The express-session `Store` that {@link createExpressSessionStore} returns.
 * Each method takes a callback, as express-session calls it, or without one
 * returns a promise. Exported as a type only: build one with the factory.
 */
export class ExpressSessionStore extends Store {
  readonly #config: BridgeConfig;
  // Keyed by express-session's Session objects: what each was loaded as.
  readonly #loaded = new WeakMap<object, Loaded>();

  constructor(store: SessionStore, options?: ExpressSessionStoreOptions) {
    // Checked before super(): a bad argument never leaves a half-built Store.
    const config = resolveBridgeConfig(store, options);
    super();
    this.#config = config;
  }

  /** The sessionkit store underneath. */
  get store(): SessionStore {
    return this.#config.store;
  }

  /** The session stored under `sid`, or `null` when it is missing, expired or unreadable. */
  override get(sid: string): Promise<SessionData | null>;
  override get(sid: string, callback: GetCallback): void;
  override get(sid: string, callback?: GetCallback): Promise<SessionData | null> | undefined {
    return settle(getSession(this.#config, sid), callback);
  }

  /**
   * Creates or replaces the session under `sid`. A session loaded from this
   * store is saved with a compare-and-set (last writer wins on a concurrent
   * save); one destroyed or expired meanwhile is never recreated.
   */
  override set(sid: string, session: SessionData): Promise<void>;
  override set(sid: string, session: SessionData, callback: DoneCallback): void;
  override set(
    sid: string,
    session: SessionData,
    callback?: DoneCallback,
  ): Promise<void> | undefined {
    return settle(this.#save(sid, session), callback);
  }

  /** Deletes the session under `sid`; a missing one is not an error. */
  override destroy(sid: string): Promise<void>;
  override destroy(sid: string, callback: DoneCallback): void;
  override destroy(sid: string, callback?: DoneCallback): Promise<void> | undefined {
    return settle(destroySession(this.#config, sid), callback);
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
    return settle(touchSession(this.#config, sid, session), callback);
  }

  /**
   * Every live session, as an array: the store holds only hashes of session
   * ids, so the ids themselves cannot be listed. Needs the store's `keys`
   * capability, else fails with `UNSUPPORTED`.
   */
  override all(): Promise<SessionData[]>;
  override all(callback: AllCallback): void;
  override all(callback?: AllCallback): Promise<SessionData[]> | undefined {
    return settle(allSessions(this.#config), callback);
  }

  /** Number of live sessions. Needs the store's `count` capability, else fails with `UNSUPPORTED`. */
  override length(): Promise<number>;
  override length(callback: LengthCallback): void;
  override length(callback?: LengthCallback): Promise<number> | undefined {
    return settle(countSessions(this.#config), callback);
  }

  /** Deletes every session of the store. Needs the store's `clear` capability, else fails with `UNSUPPORTED`. */
  override clear(): Promise<void>;
  override clear(callback: DoneCallback): void;
  override clear(callback?: DoneCallback): Promise<void> | undefined {
    return settle(clearSessions(this.#config), callback);
  }

  async #save(sid: string, session: SessionData): Promise<void> {
    const saved = await saveSession(this.#config, sid, session, this.#loaded.get(session));
    if (saved !== undefined && isTracked(session)) this.#loaded.set(session, saved);
  }

  /**
   * express-session turns stored data into its `Session` object here; the
   * version the data was loaded with is remembered for the compare-and-set of
   * the next save.
   */
  override createSession(req: Request, data: SessionData): ReturnType<Store["createSession"]> {
    const loaded = loadedMark(data);
    const session = super.createSession(req, data);
    if (loaded !== undefined) this.#loaded.set(session, loaded);
    return session;
  }
}

/**
 * Wraps any sessionkit store as an express-session `Store`: move an existing
 * express-session app to sessionkit's Redis, PostgreSQL, SQLite or memory store
 * by changing the `store` line. Stores see the hash of each session id, never
 * the id. A bad store or option throws a `SessionError` with code
 * `INVALID_CONFIG`.
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
  options?: ExpressSessionStoreOptions,
): ExpressSessionStore {
  return new ExpressSessionStore(store, options);
}
