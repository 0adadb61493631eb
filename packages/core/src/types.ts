import type { SessionCodec } from "./codec.js";
import type { SameSite } from "./cookie.js";
import type { ErrorCode } from "./errors.js";
import type { StandardSchemaV1 } from "./standard-schema.js";
import type { SessionStore } from "./store.js";

/** Shape of typed session data: a plain object of JSON-compatible values. */
export type SessionData = Record<string, unknown>;

/** Options of the session cookie. Every default follows OWASP. */
export interface CookieOptions {
  /**
   * Cookie name. Must be a token; `__Host-` and `__Secure-` prefixes are checked.
   * @default "__Host-sid" (or "sid" when `secure` is false or a `domain` or non-root `path` is set)
   */
  readonly name?: string;
  /**
   * Send the cookie only over HTTPS. Keep it on: browsers store Secure cookies
   * sent by `http://localhost`, so local development needs nothing. For other
   * plain-http hosts in development set `false`; that is refused when
   * `NODE_ENV` is `"production"`.
   * @default true
   */
  readonly secure?: boolean;
  /** Hide the cookie from JavaScript. @default true */
  readonly httpOnly?: boolean;
  /** `SameSite` attribute. `"none"` requires `secure`. @default "lax" */
  readonly sameSite?: SameSite;
  /** `Path` attribute. @default "/" */
  readonly path?: string;
  /** `Domain` attribute; unset means host-only (safer). @default undefined */
  readonly domain?: string;
  /** `Partitioned` (CHIPS) attribute, for third-party embeds. Requires `secure`. @default false */
  readonly partitioned?: boolean;
  /**
   * Make the cookie persistent ("remember me"): its `Max-Age` in ms, capped by
   * the absolute timeout and by 400 days. Unset makes a browser-session cookie.
   * @default undefined
   */
  readonly maxAgeMs?: number;
}

/** Where else, besides the signed cookie, a session token may be read from. */
export interface IdSourceOptions {
  /**
   * Read the token from this request header, and send new tokens back in it.
   * For non-browser clients; a header is not sent automatically, so it does
   * not protect against CSRF the way SameSite does, and clients must store the
   * token safely. Must be in canonical form, such as `"X-Session-Id"`.
   * @default undefined (off)
   */
  readonly header?: string;
  /**
   * Read the token from this URL query parameter. Tokens in URLs leak through
   * logs, history and `Referer`: use only where cookies are impossible.
   * @default undefined (off)
   */
  readonly query?: string;
}

/** What a {@link SessionManagerOptions.onEvent} listener receives. */
export interface SessionEvent {
  /** What happened. */
  readonly type:
    | "created"
    | "regenerated"
    | "destroyed"
    | "expired"
    | "bad-signature"
    | "unknown-id"
    | "corrupt-record"
    | "conflict"
    | "dropped"
    | "store-error"
    | "invalid-data"
    | "upgraded";
  /** Keyed hash of the session id (never the id), for correlating events. */
  readonly sessionHash?: string;
  /**
   * Error code, for `store-error`, `conflict` and `invalid-data`: an
   * {@link ErrorCode}, or `"TYPE_ERROR"` when a store rejected a call's
   * arguments with a `TypeError`.
   */
  readonly code?: ErrorCode | "TYPE_ERROR";
  /** When it happened, epoch ms. */
  readonly at: number;
}

/** Options of {@link createSessionManager}. */
export interface SessionManagerOptions {
  /** Where sessions live. */
  readonly store: SessionStore;
  /**
   * Signing secrets, each at least 32 random bytes. The first signs; all verify,
   * so rotate by adding a new secret at the front. Cookies signed with an older
   * one are re-signed with the first on their next request.
   */
  readonly secrets: readonly (string | Uint8Array)[];
  /** Session cookie options. */
  readonly cookie?: CookieOptions;
  /** Optional extra id sources; off by default. */
  readonly idFrom?: IdSourceOptions;
  /** A session unused this long expires, in ms. @default 1800000 (30 minutes) */
  readonly idleTimeoutMs?: number;
  /** A session expires this long after creation however active, in ms. @default 43200000 (12 hours) */
  readonly absoluteTimeoutMs?: number;
  /**
   * A session's expiry is pushed back at most once per this many ms, so reads
   * cost no write and frequent writes leave the stored expiry alone: an
   * unchanged session by a touch, a changed one by its write, once due. Must
   * be below `idleTimeoutMs`.
   * @default min(60000, idleTimeoutMs / 2)
   */
  readonly touchAfterMs?: number;
  /** Encodes session contents. @default jsonCodec */
  readonly codec?: SessionCodec;
  /** Largest encoded session in bytes (UTF-8); larger commits fail with `PAYLOAD_TOO_LARGE`. @default 65536 */
  readonly maxPayloadBytes?: number;
  /**
   * Two requests changed the same key of one session: `"merge"` lets the last
   * writer win on that key (changes to other keys are always merged);
   * `"error"` fails the later commit with `CONFLICT`.
   * @default "merge"
   */
  readonly conflict?: "merge" | "error";
  /** Observability hook. Listener errors are swallowed. */
  readonly onEvent?: (event: SessionEvent) => void;
  /** Salt for {@link SessionEvent.sessionHash}; share it across processes to correlate their events. @default random per manager */
  readonly eventSalt?: string | Uint8Array;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
  /**
   * Longest wait for any store call, in ms. Past it the request fails with
   * `STORE_TIMEOUT` (HTTP 503) whatever the store does, and the store's late
   * answer is ignored. Stores have their own, usually shorter, timeouts;
   * this is the backstop that also covers hand-written stores.
   * @default 3000
   */
  readonly storeTimeoutMs?: number;
  /**
   * Tracing and metrics hooks, such as `sessionTelemetry()` from
   * `@sessionkit/opentelemetry`. Unset costs nothing per request.
   * @default undefined
   */
  readonly instrumentation?: SessionInstrumentation;
  /**
   * Validates session data: any Standard Schema (zod 4, valibot 1, arktype 2,
   * …); `Data` is inferred from it. Stored data is checked when a session is
   * loaded (after `upgrade`); with {@link SessionManagerOptions.checkWrites}
   * (the default outside production) the data is checked again before every
   * write, so a bad value fails the commit with `INVALID_DATA` and nothing is
   * written. The schema checks; its transforms and defaults are not applied.
   * Sessions start empty, so make every field optional.
   * @default undefined (no validation)
   */
  readonly schema?: StandardSchemaV1<unknown, object>;
  /**
   * With a `schema`: check the data before every write too, so a value the
   * schema refuses fails `commit()` with `INVALID_DATA` and nothing is
   * written. Off in production by default: there `set()` is already held to
   * the inferred `Data` type at compile time, every load checks what comes
   * back (a bad value that got written is treated as `onInvalid` says on the
   * next request), and a second validation per write cost a changed request
   * cycle up to 20 % more CPU with zod (measured in BENCHMARKS.md). Set `true`
   * to check writes in production as well.
   * @default true, unless `NODE_ENV` is `"production"`
   */
  readonly checkWrites?: boolean;
  /**
   * Version of the data's shape, stored with each session. Raise it when a
   * deploy changes the shape, and give `upgrade`.
   * @default 1
   */
  readonly version?: number;
  /**
   * Turns data written by an older `version` into the current shape when it is
   * loaded; the session is written back with the current version at commit.
   * Throw (or return data the schema refuses) to treat it as invalid.
   */
  readonly upgrade?: (
    data: Record<string, unknown>,
    fromVersion: number,
  ) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /**
   * Stored data that fails validation and cannot be upgraded: `"reset"`
   * deletes the session and starts the request anonymous; `"error"` fails the
   * request with `INVALID_DATA` (HTTP 500). Either way an `invalid-data` event
   * fires. Data written by a *newer* version (a rolling deploy) is never
   * deleted: the request is served anonymous, or fails with `"error"`.
   * @default "reset"
   */
  readonly onInvalid?: "reset" | "error";
}

/** One unit of session work, as {@link SessionInstrumentation} sees it. */
export interface InstrumentedOperation {
  /** `"load"` and `"commit"` of a request's session, or `"store"` for one store call. */
  readonly kind: "load" | "commit" | "store";
  /** The store call for `kind: "store"`, such as `"get"`, `"set"` or `"rename"`; else the kind. */
  readonly operation: string;
  /** The store's name, such as `"redis"`. */
  readonly store: string;
  /** The session cookie's name: tells several managers apart. */
  readonly sessionName: string;
}

/**
 * What an operation did, reported once before it resolves. Never holds a
 * token, store key or user id.
 */
export interface OperationDetails {
  /**
   * `load`: `"found"` (a live session) or `"none"`; `commit`: its
   * {@link CommitResult.outcome}.
   */
  readonly outcome?: string;
  /** `commit`: compare-and-set retries after a concurrent write. */
  readonly retries?: number;
}

/**
 * Hooks around each load, commit and store call. `wrap` must call `run`
 * exactly once and return a promise that settles as `run`'s does (it may run
 * it inside a tracing context). `run` calls `details` once, before it
 * resolves; a rejection is the operation's error (a `SessionError` with a
 * `code` for store failures).
 */
export interface SessionInstrumentation {
  wrap<T>(
    operation: InstrumentedOperation,
    run: (details: (details: OperationDetails) => void) => Promise<T>,
  ): Promise<T>;
  /**
   * Whether `wrap` would record anything now. Where it answers `false`, core
   * runs the operation without calling `wrap` (no operation object, no extra
   * promise), so instrumentation with nothing to record costs nothing.
   * Optional: without it, every operation goes through `wrap`.
   */
  readonly recording?: (() => boolean) | undefined;
}

/** A request, as far as sessions care: a Fetch `Request`, `Headers`, or a Node `IncomingMessage`. */
export type RequestInput =
  | { readonly headers: { get(name: string): string | null }; readonly url?: string }
  | { get(name: string): string | null }
  | {
      readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
      readonly url?: string | undefined;
    };

/** Headers a commit asks the adapter to send, as `[name, value]` pairs in order. */
export type ResponseHeader = readonly [name: string, value: string];

/** What {@link Session.commit} did, and the headers to send. */
export interface CommitResult {
  /** What the commit wrote. */
  readonly outcome:
    | "unchanged"
    | "created"
    | "updated"
    | "touched"
    | "regenerated"
    | "destroyed"
    | "dropped";
  /**
   * Headers to add to the response: at most one `Set-Cookie`, with
   * `Cache-Control: no-store` whenever the cookie is set or cleared, and
   * `Vary: Cookie`. Append them; never replace other `Set-Cookie`s.
   */
  readonly headers: readonly ResponseHeader[];
}

/** One of a user's sessions, as listed by {@link Session.listSessions}. */
export interface SessionInfo<Data extends object> {
  /**
   * Opaque handle for {@link Session.destroySession}: a keyed hash, never the
   * store key, the same in every process of the app. Not a credential.
   */
  readonly handle: string;
  /** Creation time, epoch ms. */
  readonly createdAt: number;
  /** Current expiry, epoch ms. */
  readonly expiresAt: number;
  /** Whether this is the session of the current request. */
  readonly current: boolean;
  /** That session's data, or `undefined` when it cannot be decoded. */
  readonly data: Partial<Data> | undefined;
}

/**
 * One request's view of a session: its own copy of the data (changes never
 * leak between concurrent requests), written back by {@link Session.commit}.
 */
export interface Session<Data extends object = SessionData, Flash extends object = SessionData> {
  /** True until the session is stored (or after it was destroyed). */
  readonly isNew: boolean;
  /** The signed-in user, as set by {@link Session.setUser}. */
  readonly userId: string | undefined;
  /** Creation time, epoch ms; `undefined` for a new session. */
  readonly createdAt: number | undefined;
  /** Current expiry, epoch ms; `undefined` for a new session. */
  readonly expiresAt: number | undefined;
  /**
   * This session's cookie lifetime in ms when the cookie is persistent (from
   * {@link Session.persist} or the manager's `cookie.maxAgeMs`); `undefined`
   * for a browser-session cookie.
   */
  readonly maxAgeMs: number | undefined;
  /**
   * "Remember me" for this session only. `persist(ms)` gives it a persistent
   * cookie of `ms` (capped by `absoluteTimeoutMs` and 400 days) and keeps the
   * session through `ms` of inactivity instead of `idleTimeoutMs`; the server
   * enforces the same end. `persist(false)` makes it a browser-session cookie
   * with the normal idle timeout. Kept across {@link Session.regenerate};
   * takes effect at commit.
   */
  persist(maxAgeMs: number | false): this;
  /** A value, or `undefined`. */
  get<K extends keyof Data & string>(key: K): Data[K] | undefined;
  /** Sets a value. The key may not be `__proto__`, `constructor` or `prototype`. */
  set<K extends keyof Data & string>(key: K, value: Data[K]): this;
  /** Removes a value. */
  delete(key: keyof Data & string): this;
  /** Whether a value is set. */
  has(key: keyof Data & string): boolean;
  /** Removes every value (not the session: see {@link Session.destroy}). */
  clear(): this;
  /** A copy of all values. */
  toJSON(): Partial<Data>;
  /** Queues a flash message, readable once by a later request. */
  flash<K extends keyof Flash & string>(key: K, message: Flash[K]): this;
  /** Returns and removes the queued flash messages of a key. */
  consumeFlash<K extends keyof Flash & string>(key: K): Flash[K][];
  /** Sets or clears the owner, which feeds the per-user index. Call {@link Session.regenerate} too on login. */
  setUser(userId: string | undefined): this;
  /**
   * Gives the session a new id at commit, killing the old one at once.
   * Call it on login and on any privilege change. Data is kept, or only the
   * `keep` keys (filtered at once: values set afterwards are kept); the
   * absolute timeout is not reset.
   */
  regenerate(options?: { readonly keep?: readonly (keyof Data & string)[] }): this;
  /** Deletes the session at commit and clears the cookie. */
  destroy(): this;
  /**
   * Drops every change this request made since the session was loaded (or last
   * committed): data, flash, owner, `regenerate()`, `destroy()` and `persist()`.
   * The adapters commit a request's changes unless its handler threw; call this
   * when the handler answers an error itself and wants nothing saved.
   *
   * @example
   * ```ts
   * if (!form.valid) {
   *   session.discard();
   *   return res.status(422).send("invalid form");
   * }
   * ```
   */
  discard(): this;
  /** Destroys every other session of this session's user ("log out everywhere else"). */
  destroyOtherSessions(): Promise<number>;
  /** The user's live sessions. Needs a store with the `userIndex` capability. */
  listSessions(): Promise<SessionInfo<Data>[]>;
  /** Destroys one of the user's sessions by its handle; false if it is not theirs. */
  destroySession(handle: string): Promise<boolean>;
  /**
   * Writes what changed (nothing when nothing did; a touch at most once per
   * `touchAfterMs`) and returns the headers to send. Safe to call more than once.
   */
  commit(): Promise<CommitResult>;
  /**
   * The signed token, for header or query id sources. Sensitive: anyone holding
   * it holds the session. `null` until the session has an id.
   */
  exportToken(): string | null;
}

/** Creates and loads sessions for one cookie. */
export interface SessionManager<
  Data extends object = SessionData,
  Flash extends object = SessionData,
> {
  /**
   * The request's session. Reads the id (cookie, then configured sources),
   * verifies it, and loads the record; an invalid id costs no store call.
   * Loading twice in one request returns the same object.
   */
  load(request: RequestInput): Promise<Session<Data, Flash>>;
  /** The session cookie's name. */
  readonly cookieName: string;
  /** The store. */
  readonly store: SessionStore;
  /** Destroys every session of a user, e.g. after a password change. Needs `userIndex`. */
  destroyUserSessions(userId: string): Promise<number>;
}
