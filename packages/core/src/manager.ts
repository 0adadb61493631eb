import { randomBytes } from "node:crypto";
import { FORBIDDEN_KEYS, jsonCodec, type SessionCodec } from "./codec.js";
import {
  type CookieAttributes,
  findCookieValues,
  type SameSite,
  serializeCookie,
  validateCookie,
} from "./cookie.js";
import {
  type Contents,
  decodeContents,
  emptyContents,
  encodeContents,
  isWellFormedRecord,
} from "./envelope.js";
import { ErrorCode, isSessionError, SessionError } from "./errors.js";
import {
  createIdHasher,
  createTokenSigner,
  generateSessionId,
  prepareSecrets,
  storeKeyOf,
} from "./signing.js";
import { assertStorable, isSessionStore, type SessionRecord, type SessionStore } from "./store.js";

/** Shape of typed session data: a plain object of JSON-compatible values. */
export type SessionData = Record<string, unknown>;

/** Options of the session cookie. Every default follows OWASP (checklist A5). */
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

/** Where else, besides the signed cookie, a session token may be read from (checklist A9). */
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

/** What a {@link SessionManagerOptions.onEvent} listener receives (checklist A38). */
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
    | "store-error";
  /** Keyed hash of the session id (never the id), for correlating events. */
  readonly sessionHash?: string;
  /** Error code, for `store-error` and `conflict`. */
  readonly code?: string;
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
   * An unchanged session's expiry is pushed back at most once per this many ms,
   * so reads cost no write. Must be below `idleTimeoutMs`.
   * @default 60000 (1 minute)
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
   * answer is ignored (A30). Stores have their own, usually shorter, timeouts;
   * this is the backstop that also covers hand-written stores.
   * @default 3000
   */
  readonly storeTimeoutMs?: number;
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
   * Headers to add to the response: at most one `Set-Cookie` (A10), with
   * `Cache-Control: no-store` whenever the cookie is set or cleared, and
   * `Vary: Cookie` (A37). Append them; never replace other `Set-Cookie`s.
   */
  readonly headers: readonly ResponseHeader[];
}

/** One of a user's sessions, as listed by {@link Session.listSessions}. */
export interface SessionInfo<Data extends object> {
  /** Opaque handle for {@link Session.destroySession}; not a credential. */
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
   * Gives the session a new id at commit, killing the old one at once (A16).
   * Call it on login and on any privilege change. Data is kept, or only the
   * `keep` keys (filtered at once: values set afterwards are kept); the
   * absolute timeout is not reset.
   */
  regenerate(options?: { readonly keep?: readonly (keyof Data & string)[] }): this;
  /** Deletes the session at commit and clears the cookie (A17). */
  destroy(): this;
  /** Destroys every other session of this session's user ("log out everywhere else", A21). */
  destroyOtherSessions(): Promise<number>;
  /** The user's live sessions (A21). Needs a store with the `userIndex` capability. */
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
   * verifies it, and loads the record; an invalid id costs no store call (A14).
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

type Store = SessionStore;

interface Config {
  readonly store: Store;
  readonly cookieName: string;
  readonly attributes: CookieAttributes;
  readonly maxAgeMs: number | undefined;
  readonly headerName: string | undefined;
  readonly queryName: string | undefined;
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
  readonly touchAfterMs: number;
  readonly codec: SessionCodec;
  readonly maxPayloadBytes: number;
  readonly conflict: "merge" | "error";
  readonly now: () => number;
  readonly storeTimeoutMs: number;
  readonly signer: ReturnType<typeof createTokenSigner>;
  readonly hashId: (id: string) => string;
  readonly emit: (type: SessionEvent["type"], id?: string, code?: string) => void;
}

// Every round of a compare-and-set race has exactly one winner, so N requests
// racing on one session need at most N - 1 retries each.
const MAX_CONFLICT_RETRIES = 64;

/** Jittered backoff after the first retries, so racing requests stop colliding in lockstep. */
function backoff(attempt: number): Promise<void> | undefined {
  if (attempt < 2) return undefined;
  const ms = Math.random() * Math.min(50, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
const MAX_COOKIE_AGE_MS = 400 * 24 * 3600 * 1000;
/** setTimeout's largest delay; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * Validly signed session tokens in one request that are looked up before
 * giving up (A8): enough that a forged duplicate in front never masks the real
 * cookie, few enough that a request costs a bounded number of store reads.
 */
const MAX_TOKEN_LOOKUPS = 3;
const CANONICAL_HEADER = /^[A-Z0-9][a-z0-9]*(?:-[A-Z0-9][a-z0-9]*)*$/;
const QUERY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function invalid(message: string): never {
  throw new SessionError(ErrorCode.INVALID_CONFIG, message);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    invalid(`${name} must be a positive integer (ms)`);
  return value;
}

function resolveConfig(options: SessionManagerOptions): Config {
  if (options === null || typeof options !== "object")
    invalid("createSessionManager(options): options required");
  const { store } = options;
  if (!isSessionStore(store)) {
    invalid("store must implement the SessionStore contract (get, set, destroy, capabilities)");
  }
  const secrets = prepareSecrets(options.secrets);

  const cookie = options.cookie ?? {};
  const secure = cookie.secure ?? true;
  if (!secure && process.env.NODE_ENV === "production") {
    invalid("cookie.secure: false is refused when NODE_ENV is production (A36)");
  }
  const path = cookie.path ?? "/";
  const domain = cookie.domain;
  const hostPrefixOk = secure && path === "/" && domain === undefined;
  const cookieName = cookie.name ?? (hostPrefixOk ? "__Host-sid" : "sid");
  const attributes: CookieAttributes = {
    path,
    domain,
    secure,
    httpOnly: cookie.httpOnly ?? true,
    sameSite: cookie.sameSite ?? "lax",
    partitioned: cookie.partitioned ?? false,
  };
  validateCookie(cookieName, attributes);

  const idleTimeoutMs = positiveInteger("idleTimeoutMs", options.idleTimeoutMs ?? 30 * 60_000);
  const absoluteTimeoutMs = positiveInteger(
    "absoluteTimeoutMs",
    options.absoluteTimeoutMs ?? 12 * 3_600_000,
  );
  const touchAfterMs = options.touchAfterMs ?? Math.min(60_000, Math.floor(idleTimeoutMs / 2));
  if (!Number.isSafeInteger(touchAfterMs) || touchAfterMs < 0 || touchAfterMs >= idleTimeoutMs) {
    invalid("touchAfterMs must be an integer from 0 to below idleTimeoutMs");
  }
  if (absoluteTimeoutMs < idleTimeoutMs)
    invalid("absoluteTimeoutMs must be at least idleTimeoutMs");
  let maxAgeMs: number | undefined;
  if (cookie.maxAgeMs !== undefined) {
    maxAgeMs = positiveInteger("cookie.maxAgeMs", cookie.maxAgeMs);
    if (maxAgeMs > absoluteTimeoutMs)
      invalid("cookie.maxAgeMs must not exceed absoluteTimeoutMs (A5)");
    if (maxAgeMs > MAX_COOKIE_AGE_MS) invalid("cookie.maxAgeMs must not exceed 400 days (A5)");
  }

  const headerName = options.idFrom?.header;
  if (headerName !== undefined && !CANONICAL_HEADER.test(headerName)) {
    invalid(
      `idFrom.header must be a canonical header name such as "X-Session-Id" (got ${JSON.stringify(headerName)})`,
    );
  }
  const queryName = options.idFrom?.query;
  if (queryName !== undefined && !QUERY_NAME.test(queryName)) {
    invalid("idFrom.query must be 1 to 64 letters, digits, '_', '.' or '-'");
  }
  const maxPayloadBytes = positiveInteger("maxPayloadBytes", options.maxPayloadBytes ?? 64 * 1024);
  const storeTimeoutMs = positiveInteger("storeTimeoutMs", options.storeTimeoutMs ?? 3_000);
  if (storeTimeoutMs > MAX_TIMER_MS) invalid(`storeTimeoutMs must not exceed ${MAX_TIMER_MS} ms`);
  const conflict = options.conflict ?? "merge";
  if (conflict !== "merge" && conflict !== "error") invalid('conflict must be "merge" or "error"');
  const codec = options.codec ?? jsonCodec;
  if (typeof codec?.encode !== "function" || typeof codec.decode !== "function") {
    invalid("codec must have encode() and decode()");
  }

  // The largest cookie we will ever send must fit browsers' limit (A11).
  const signer = createTokenSigner(cookieName, secrets);
  serializeCookie(
    cookieName,
    signer.sign(generateSessionId()),
    attributes,
    Math.ceil(MAX_COOKIE_AGE_MS / 1000),
  );

  const salt =
    options.eventSalt === undefined
      ? randomBytes(32)
      : Buffer.from(options.eventSalt as Uint8Array | string);
  const hashId = createIdHasher(salt);
  const now = options.now ?? Date.now;
  const listener = options.onEvent;
  const emit: Config["emit"] = (type, id, code) => {
    if (listener === undefined) return;
    try {
      listener({
        type,
        at: now(),
        ...(id === undefined ? {} : { sessionHash: hashId(id) }),
        ...(code === undefined ? {} : { code }),
      });
    } catch {
      // An observability hook must never break a request.
    }
  };

  return {
    store,
    cookieName,
    attributes,
    maxAgeMs,
    headerName,
    queryName,
    idleTimeoutMs,
    absoluteTimeoutMs,
    touchAfterMs,
    codec,
    maxPayloadBytes,
    conflict,
    now,
    storeTimeoutMs,
    signer,
    hashId,
    emit,
  };
}

function readHeader(request: RequestInput, name: string): string | undefined {
  if (typeof (request as { get?: unknown }).get === "function") {
    return (request as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const headers = (request as { headers?: unknown }).headers;
  if (headers === null || typeof headers !== "object") return undefined;
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const value = (headers as Record<string, string | readonly string[] | undefined>)[
    name.toLowerCase()
  ];
  if (Array.isArray(value)) return name.toLowerCase() === "cookie" ? value.join("; ") : value[0];
  return typeof value === "string" ? value : undefined;
}

function readQuery(request: RequestInput, name: string): string | undefined {
  const url = (request as { url?: unknown }).url;
  if (typeof url !== "string" || url.length > 16_384) return undefined;
  const question = url.indexOf("?");
  if (question === -1) return undefined;
  const hash = url.indexOf("#", question);
  return (
    new URLSearchParams(url.slice(question + 1, hash === -1 ? undefined : hash)).get(name) ??
    undefined
  );
}

/**
 * Settles with the store's answer, or rejects with `STORE_TIMEOUT` once
 * `timeoutMs` pass without one (A30): whatever a store does, a request never
 * waits longer. A late answer is ignored.
 */
function withDeadline<T>(config: Config, operation: string, call: () => Promise<T>): Promise<T> {
  const answer = call();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new SessionError(
          ErrorCode.STORE_TIMEOUT,
          `session store "${config.store.name}" did not answer ${operation} within ${config.storeTimeoutMs} ms (storeTimeoutMs)`,
          { store: config.store.name, operation },
        ),
      );
    }, config.storeTimeoutMs);
    // A thenable that is not a real promise is adopted too; a plain value resolves at once.
    Promise.resolve(answer).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Calls the store under the core deadline, wraps anything it threw (even
 * synchronously) into a SessionError, and reports it.
 */
async function storeCall<T>(config: Config, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await withDeadline(config, operation, call);
  } catch (error) {
    const wrapped = isSessionError(error)
      ? error
      : error instanceof TypeError
        ? error
        : new SessionError(
            ErrorCode.STORE_ERROR,
            `session store "${config.store.name}" failed during ${operation}`,
            {
              store: config.store.name,
              operation,
              cause: error,
            },
          );
    config.emit("store-error", undefined, isSessionError(wrapped) ? wrapped.code : "TYPE_ERROR");
    throw wrapped;
  }
}

function sameValue(codec: SessionCodec, a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return codec.encode(a) === codec.encode(b);
}

/**
 * Applies this request's changes (relative to `base`) onto `fresh`, the
 * version another request committed meanwhile. Keys this request did not
 * touch keep the other request's values, so concurrent requests changing
 * different keys both survive (A23).
 */
function mergeInto(
  config: Config,
  base: Record<string, unknown>,
  mine: Record<string, unknown>,
  fresh: Record<string, unknown>,
): void {
  const changed = new Set<string>();
  for (const key in mine)
    if (!(key in base) || !sameValue(config.codec, mine[key], base[key])) changed.add(key);
  for (const key in base) if (!(key in mine)) changed.add(key);
  for (const key of changed) {
    if (config.conflict === "error" && !sameValue(config.codec, fresh[key], base[key])) {
      config.emit("conflict", undefined, ErrorCode.CONFLICT);
      throw new SessionError(
        ErrorCode.CONFLICT,
        `another request changed session key "${key}" at the same time`,
        { store: config.store.name, operation: "set" },
      );
    }
    if (key in mine) fresh[key] = mine[key];
    else delete fresh[key];
  }
}

type CookieAction = "none" | "set" | "clear";

class SessionImpl<Data extends object, Flash extends object> implements Session<Data, Flash> {
  readonly #config: Config;
  /** The verified id of the stored session, or a freshly minted one once needed. */
  #id: string | undefined;
  /** The stored record as last read or written; undefined while new. */
  #record: SessionRecord | undefined;
  #contents: Contents;
  #userId: string | undefined;
  /** The store key of `#id`, hashed once. */
  #key: string | undefined;
  #regenerate = false;
  #destroyed = false;
  /**
   * Set once a commit found the session destroyed, expired or regenerated by
   * another request while this one was changing it (A18): from then on the
   * session is closed, and nothing this request does can create a record or
   * issue a token.
   */
  #closed = false;
  /**
   * False while nothing could have changed the contents: no mutation call and
   * no object value handed out (a handler may mutate an object it was given).
   * Lets an unchanged commit skip encoding altogether.
   */
  #mayHaveChanged = false;
  #cookie: CookieAction;
  #resign: boolean;

  constructor(
    config: Config,
    init: {
      id?: string | undefined;
      key?: string | undefined;
      record?: SessionRecord | undefined;
      contents?: Contents | undefined;
      resign?: boolean;
    },
  ) {
    this.#config = config;
    this.#id = init.record === undefined ? undefined : init.id;
    this.#key = init.record === undefined ? undefined : init.key;
    this.#record = init.record;
    this.#contents = init.contents ?? emptyContents();
    this.#userId = init.record?.userId;
    this.#cookie = "none";
    this.#resign = init.resign === true;
  }

  get isNew(): boolean {
    return this.#record === undefined;
  }
  get userId(): string | undefined {
    return this.#userId;
  }
  get createdAt(): number | undefined {
    return this.#record?.createdAt;
  }
  get expiresAt(): number | undefined {
    return this.#record?.expiresAt;
  }

  #open(): void {
    if (this.#destroyed || this.#closed) {
      throw new SessionError(
        ErrorCode.SESSION_CLOSED,
        this.#closed
          ? "this session was ended by another request (logout, expiry or regenerate) while this request changed it; load a new one to start over"
          : "this session was destroyed; load a new one to start over",
      );
    }
  }

  get<K extends keyof Data & string>(key: K): Data[K] | undefined {
    if (!Object.hasOwn(this.#contents.data, key)) return undefined;
    const value = this.#contents.data[key];
    if (value !== null && typeof value === "object") this.#mayHaveChanged = true;
    return value as Data[K];
  }

  set<K extends keyof Data & string>(key: K, value: Data[K]): this {
    this.#open();
    if (typeof key !== "string" || FORBIDDEN_KEYS.has(key)) {
      throw new TypeError(`session.set(): ${JSON.stringify(key)} is not an allowed key`);
    }
    if (value === undefined) delete this.#contents.data[key];
    else this.#contents.data[key] = value;
    this.#mayHaveChanged = true;
    return this;
  }

  delete(key: keyof Data & string): this {
    this.#open();
    delete this.#contents.data[key];
    this.#mayHaveChanged = true;
    return this;
  }

  has(key: keyof Data & string): boolean {
    return Object.hasOwn(this.#contents.data, key);
  }

  clear(): this {
    this.#open();
    this.#contents.data = Object.create(null);
    this.#mayHaveChanged = true;
    return this;
  }

  toJSON(): Partial<Data> {
    this.#mayHaveChanged = true;
    return { ...this.#contents.data } as Partial<Data>;
  }

  flash<K extends keyof Flash & string>(key: K, message: Flash[K]): this {
    this.#open();
    if (typeof key !== "string" || FORBIDDEN_KEYS.has(key)) {
      throw new TypeError(`session.flash(): ${JSON.stringify(key)} is not an allowed key`);
    }
    const queue = this.#contents.flash[key] ?? [];
    queue.push(message);
    this.#contents.flash[key] = queue;
    this.#mayHaveChanged = true;
    return this;
  }

  consumeFlash<K extends keyof Flash & string>(key: K): Flash[K][] {
    if (!Object.hasOwn(this.#contents.flash, key)) return [];
    const messages = this.#contents.flash[key] as Flash[K][];
    delete this.#contents.flash[key];
    this.#mayHaveChanged = true;
    return messages;
  }

  setUser(userId: string | undefined): this {
    this.#open();
    if (
      userId !== undefined &&
      (typeof userId !== "string" || userId.length === 0 || userId.length > 512)
    ) {
      throw new TypeError(
        "session.setUser(): userId must be a string of 1 to 512 characters, or undefined",
      );
    }
    this.#userId = userId;
    this.#mayHaveChanged = true;
    return this;
  }

  regenerate(options: { readonly keep?: readonly (keyof Data & string)[] } = {}): this {
    this.#open();
    // Filtered now, not at commit: values set after this call belong to the new session.
    if (options.keep !== undefined) {
      const kept: Record<string, unknown> = Object.create(null);
      for (const key of options.keep) {
        if (Object.hasOwn(this.#contents.data, key)) kept[key] = this.#contents.data[key];
      }
      this.#contents.data = kept;
      this.#mayHaveChanged = true;
    }
    this.#regenerate = true;
    return this;
  }

  destroy(): this {
    this.#destroyed = true;
    return this;
  }

  #requireUserIndex(operation: string): NonNullable<Store["listByUser"]> {
    const store = this.#config.store;
    if (!store.capabilities.userIndex || store.listByUser === undefined) {
      throw new SessionError(
        ErrorCode.UNSUPPORTED,
        `${operation} needs a store with the "userIndex" capability; "${store.name}" has none`,
      );
    }
    return store.listByUser.bind(store);
  }

  async destroyOtherSessions(): Promise<number> {
    this.#requireUserIndex("destroyOtherSessions()");
    const userId = this.#userId;
    if (userId === undefined) return 0;
    const store = this.#config.store;
    const exceptKey = this.#key;
    return storeCall(
      this.#config,
      "destroyByUser",
      async () =>
        (await store.destroyByUser?.(userId, exceptKey === undefined ? {} : { exceptKey })) ?? 0,
    );
  }

  async listSessions(): Promise<SessionInfo<Data>[]> {
    const listByUser = this.#requireUserIndex("listSessions()");
    const userId = this.#userId;
    if (userId === undefined) return [];
    const currentKey = this.#key;
    const entries = await storeCall(this.#config, "listByUser", () => listByUser(userId));
    return entries
      .map(({ key, record }) => ({
        handle: key,
        createdAt: record.createdAt,
        expiresAt: record.expiresAt,
        current: key === currentKey,
        data: decodeContents(this.#config.codec, record.payload, this.#config.maxPayloadBytes)
          ?.data as Partial<Data> | undefined,
      }))
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  async destroySession(handle: string): Promise<boolean> {
    const listByUser = this.#requireUserIndex("destroySession()");
    const userId = this.#userId;
    if (userId === undefined || typeof handle !== "string") return false;
    const entries = await storeCall(this.#config, "listByUser", () => listByUser(userId));
    if (!entries.some((entry) => entry.key === handle)) return false;
    await storeCall(this.#config, "destroy", () => this.#config.store.destroy(handle));
    return true;
  }

  exportToken(): string | null {
    return this.#id === undefined || this.#destroyed || this.#closed
      ? null
      : this.#config.signer.sign(this.#id);
  }

  /**
   * The stored expiry: the earliest of the idle deadline, the absolute
   * deadline and, for a persistent cookie, the cookie's own end (A20: the
   * record never outlives the cookie the server issued with it; every write
   * that moves the expiry re-issues the cookie).
   */
  #expiryFor(now: number, createdAt: number): number {
    const config = this.#config;
    const expiresAt = Math.min(now + config.idleTimeoutMs, createdAt + config.absoluteTimeoutMs);
    return config.maxAgeMs === undefined ? expiresAt : Math.min(expiresAt, now + config.maxAgeMs);
  }

  #checkSize(payload: string): void {
    const bytes = Buffer.byteLength(payload, "utf8");
    if (bytes > this.#config.maxPayloadBytes) {
      throw new SessionError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        `the session is ${bytes} bytes encoded; the limit (maxPayloadBytes) is ${this.#config.maxPayloadBytes}`,
      );
    }
  }

  /**
   * Re-reads the stored session after a failed compare-and-set and merges this
   * request's changes onto it. `null` means it was destroyed meanwhile: this
   * request's changes are dropped rather than resurrecting it (A18).
   */
  async #rebase(key: string): Promise<SessionRecord | null> {
    const config = this.#config;
    const fresh = await storeCall(config, "get", () => config.store.get(key));
    const base = this.#record;
    if (fresh === null || base === undefined) return null;
    const freshContents = decodeContents(config.codec, fresh.payload, config.maxPayloadBytes);
    const baseContents = decodeContents(config.codec, base.payload, config.maxPayloadBytes);
    if (freshContents === null || baseContents === null) return null;
    mergeInto(config, baseContents.data, this.#contents.data, freshContents.data);
    mergeInto(
      config,
      baseContents.flash as Record<string, unknown>,
      this.#contents.flash as Record<string, unknown>,
      freshContents.flash as Record<string, unknown>,
    );
    this.#contents = freshContents;
    if (this.#userId === base.userId) this.#userId = fresh.userId;
    this.#record = fresh;
    return fresh;
  }

  #buildRecord(payload: string, now: number, createdAt: number, version: number): SessionRecord {
    const record: SessionRecord = {
      payload,
      createdAt,
      version,
      expiresAt: this.#expiryFor(now, createdAt),
    };
    return this.#userId === undefined ? record : { ...record, userId: this.#userId };
  }

  async commit(): Promise<CommitResult> {
    const outcome = await this.#write();
    return { outcome, headers: this.#headers() };
  }

  async #write(): Promise<CommitResult["outcome"]> {
    const config = this.#config;
    const { store } = config;
    const now = config.now();

    // Closed by a dropped commit: never a record, never a token (A18).
    if (this.#closed) return "dropped";

    if (this.#destroyed) {
      const id = this.#id;
      const key = this.#key;
      if (id !== undefined && key !== undefined && this.#record !== undefined) {
        await storeCall(config, "destroy", () => store.destroy(key));
        config.emit("destroyed", id);
        this.#cookie = "clear";
      }
      // An anonymous session has no cookie of ours to clear (A15).
      this.#record = undefined;
      this.#id = undefined;
      this.#key = undefined;
      return "destroyed";
    }

    // Nothing could have changed the contents: the stored payload is still
    // theirs, so the encode-and-compare of the common read-only request is skipped.
    const loaded = this.#record;
    const payload =
      loaded !== undefined && !this.#mayHaveChanged && !this.#regenerate
        ? loaded.payload
        : encodeContents(config.codec, this.#contents);

    // New session: lazy (A15) — nothing is stored, and no cookie set, until there is something to keep.
    if (this.#record === undefined) {
      this.#regenerate = false;
      const empty =
        this.#userId === undefined &&
        Object.keys(this.#contents.data).length === 0 &&
        Object.keys(this.#contents.flash).length === 0;
      if (empty) return "unchanged";
      this.#checkSize(payload);
      const id = generateSessionId();
      const key = storeKeyOf(id);
      const record = this.#buildRecord(payload, now, now, 1);
      assertStorable(store.name, key, record);
      const created = await storeCall(config, "set", () =>
        store.set(key, record, { ifVersion: 0 }),
      );
      if (!created) throw this.#keyTaken();
      this.#id = id;
      this.#key = key;
      this.#record = record;
      this.#cookie = "set";
      config.emit("created", id);
      return "created";
    }

    const oldId = this.#id as string;
    const oldKey = this.#key as string;

    if (this.#regenerate) {
      const newId = generateSessionId();
      const newKey = storeKeyOf(newId);
      for (let attempt = 0; ; attempt++) {
        const current = this.#record as SessionRecord;
        const next = this.#buildRecord(
          encodeContents(config.codec, this.#contents),
          now,
          current.createdAt,
          current.version + 1,
        );
        this.#checkSize(next.payload);
        assertStorable(store.name, newKey, next);
        let moved: boolean;
        if (store.capabilities.rename && store.rename !== undefined) {
          const rename = store.rename.bind(store);
          moved = await storeCall(config, "rename", () =>
            rename(oldKey, newKey, next, { ifVersion: current.version }),
          );
        } else {
          // Without an atomic rename: first claim the old record by deleting it
          // with a compare-and-set (a record written with an expiry that is not
          // in the future is deleted), so a request that ended or changed it
          // meanwhile wins and nothing is resurrected; then create the new one.
          // A failure in between logs the user out, never leaves two sessions.
          const claim = { ...current, version: current.version + 1, expiresAt: now };
          moved = await storeCall(config, "set", () =>
            store.set(oldKey, claim, { ifVersion: current.version }),
          );
          if (moved) {
            const created = await storeCall(config, "set", () =>
              store.set(newKey, next, { ifVersion: 0 }),
            );
            if (!created) throw this.#keyTaken();
          }
        }
        if (moved) {
          this.#regenerate = false;
          this.#id = newId;
          this.#key = newKey;
          this.#record = next;
          this.#cookie = "set";
          config.emit("regenerated", newId);
          return "regenerated";
        }
        if (attempt >= MAX_CONFLICT_RETRIES) throw this.#conflictError();
        await backoff(attempt);
        if ((await this.#rebase(oldKey)) === null) throw this.#drop(oldId);
      }
    }

    const record = this.#record;
    const changed = payload !== record.payload || this.#userId !== record.userId;
    if (changed) {
      this.#checkSize(payload);
      let nextPayload = payload;
      for (let attempt = 0; ; attempt++) {
        const current = this.#record as SessionRecord;
        const next = this.#buildRecord(nextPayload, now, current.createdAt, current.version + 1);
        assertStorable(store.name, oldKey, next);
        const written = await storeCall(config, "set", () =>
          store.set(oldKey, next, { ifVersion: current.version }),
        );
        if (written) {
          this.#record = next;
          if (this.#resign || config.maxAgeMs !== undefined) this.#cookie = "set";
          return "updated";
        }
        if (attempt >= MAX_CONFLICT_RETRIES) throw this.#conflictError();
        await backoff(attempt);
        if ((await this.#rebase(oldKey)) === null) throw this.#drop(oldId);
        nextPayload = encodeContents(config.codec, this.#contents);
        this.#checkSize(nextPayload);
      }
    }

    // Unchanged: push expiry back at most once per touchAfterMs (A20: only ever forward).
    const expiresAt = this.#expiryFor(now, record.createdAt);
    let outcome: CommitResult["outcome"] = "unchanged";
    if (expiresAt - record.expiresAt >= config.touchAfterMs && expiresAt > record.expiresAt) {
      let touched: boolean;
      if (store.capabilities.touch && store.touch !== undefined) {
        const touch = store.touch.bind(store);
        touched = await storeCall(config, "touch", () =>
          touch(oldKey, expiresAt, { ifVersion: record.version }),
        );
      } else {
        const next = { ...record, version: record.version + 1, expiresAt };
        touched = await storeCall(config, "set", () =>
          store.set(oldKey, next, { ifVersion: record.version }),
        );
        if (touched) this.#record = next;
      }
      // A failed touch means another request wrote meanwhile (and extended the
      // expiry itself) or the session is gone; either way nothing to do here.
      if (touched) {
        this.#record = { ...(this.#record as SessionRecord), expiresAt };
        outcome = "touched";
        if (config.maxAgeMs !== undefined) this.#cookie = "set";
      }
    }
    if (this.#resign) this.#cookie = "set";
    return outcome;
  }

  #keyTaken(): SessionError {
    return new SessionError(
      ErrorCode.STORE_ERROR,
      "a freshly generated session key was already taken",
      { store: this.#config.store.name, operation: "set" },
    );
  }

  #conflictError(): SessionError {
    this.#config.emit("conflict", this.#id, ErrorCode.CONFLICT);
    return new SessionError(
      ErrorCode.CONFLICT,
      "the session kept changing under this request; giving up",
      {
        store: this.#config.store.name,
        operation: "set",
      },
    );
  }

  /**
   * Another request destroyed, expired or regenerated the session while this
   * one changed it: this request's changes are dropped and the session is
   * closed. No cookie is set or cleared: the browser's cookie may already be
   * the one a concurrent regenerate issued, and clearing it would log the user
   * out. The caller throws the returned `CONFLICT` (HTTP 409), so the write is
   * never answered as a success.
   */
  #drop(id: string): SessionError {
    this.#config.emit("dropped", id);
    this.#record = undefined;
    this.#id = undefined;
    this.#key = undefined;
    this.#regenerate = false;
    this.#closed = true;
    this.#cookie = "none";
    return new SessionError(
      ErrorCode.CONFLICT,
      "the session was ended by another request (logout, expiry or regenerate) while this request changed it; the changes were not saved",
      { store: this.#config.store.name, operation: "set" },
    );
  }

  #headers(): ResponseHeader[] {
    const config = this.#config;
    const headers: ResponseHeader[] = [["Vary", "Cookie"]];
    if (this.#cookie === "none") return headers;
    if (this.#cookie === "clear" || this.#id === undefined || this.#record === undefined) {
      headers.push(["Set-Cookie", serializeCookie(config.cookieName, "", config.attributes, 0)]);
    } else {
      const token = config.signer.sign(this.#id);
      let maxAgeSeconds: number | undefined;
      if (config.maxAgeMs !== undefined) {
        const untilAbsolute = this.#record.createdAt + config.absoluteTimeoutMs - config.now();
        maxAgeSeconds = Math.max(0, Math.floor(Math.min(config.maxAgeMs, untilAbsolute) / 1000));
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
}

/**
 * Creates a session manager: it reads the session id from the signed cookie
 * (and, only when configured, a header or query parameter), loads the record,
 * hands each request its own copy, and writes back only what changed.
 *
 * @example
 * ```ts
 * import { createSessionManager } from "@sessionkit/core";
 * import { createMemoryStore } from "@sessionkit/store-memory";
 *
 * interface Data { userId: string; cart: string[] }
 *
 * const sessions = createSessionManager<Data>({
 *   store: createMemoryStore(),
 *   secrets: [process.env.SESSION_SECRET as string],
 * });
 *
 * // In a Fetch-style handler:
 * async function handle(request: Request): Promise<Response> {
 *   const session = await sessions.load(request);
 *   session.set("cart", [...(session.get("cart") ?? []), "apple"]);
 *   const { headers } = await session.commit();
 *   const response = new Response("added");
 *   for (const [name, value] of headers) response.headers.append(name, value);
 *   return response;
 * }
 * ```
 */
export function createSessionManager<
  Data extends object = SessionData,
  Flash extends object = SessionData,
>(options: SessionManagerOptions): SessionManager<Data, Flash> {
  const config = resolveConfig(options);
  // gorilla's per-request Registry: one session object per request and manager.
  const loaded = new WeakMap<object, Promise<Session<Data, Flash>>>();

  /**
   * The live session a verified id names, or `null` when it names none: the
   * record is missing, expired (deleted here, A20) or not ours (deleted here,
   * A29). Such ids are simply ignored: no Set-Cookie answers them (A15).
   */
  const lookUp = async (id: string, resign: boolean): Promise<SessionImpl<Data, Flash> | null> => {
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
      // Enforced here too, in case the store's clock or the configuration differ (A19, A20).
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
    return new SessionImpl<Data, Flash>(config, { id, key, record, contents, resign });
  };

  const loadSession = async (request: RequestInput): Promise<Session<Data, Flash>> => {
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
    // Duplicate rule (A8): candidates are tried in order (cookies, then the
    // header, then the query); the first validly signed one that names a live
    // session wins, after at most MAX_TOKEN_LOOKUPS store reads, so a forged
    // duplicate in front never masks the real cookie. Values are never merged.
    let lookups = 0;
    for (let index = 0; index < candidates.length && lookups < MAX_TOKEN_LOOKUPS; index++) {
      const verified = config.signer.verify(candidates[index] as string);
      if (verified === null) continue;
      lookups++;
      const resign = index < cookieCount && verified.secretIndex > 0;
      const session = await lookUp(verified.id, resign);
      if (session !== null) return session;
    }
    // A cookie we cannot verify (tampered, or signed by a retired secret) names nothing.
    if (lookups === 0 && candidates.length > 0) config.emit("bad-signature");
    return new SessionImpl<Data, Flash>(config, {});
  };

  return {
    cookieName: config.cookieName,
    store: config.store,
    load(request) {
      if (request === null || typeof request !== "object") {
        return Promise.reject(
          new TypeError("sessions.load(request): pass a Request, Headers or IncomingMessage"),
        );
      }
      let session = loaded.get(request);
      if (session === undefined) {
        session = loadSession(request);
        loaded.set(request, session);
        // A failed load is not cached: the next call tries again.
        void session.catch(() => loaded.delete(request));
      }
      return session;
    },
    async destroyUserSessions(userId) {
      const store = config.store;
      if (!store.capabilities.userIndex || store.destroyByUser === undefined) {
        throw new SessionError(
          ErrorCode.UNSUPPORTED,
          `store "${store.name}" has no "userIndex" capability`,
        );
      }
      const destroyByUser = store.destroyByUser.bind(store);
      return storeCall(config, "destroyByUser", () => destroyByUser(userId));
    },
  };
}
