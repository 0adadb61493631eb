import { FORBIDDEN_KEYS } from "./codec.js";
import { commitState, handOut, UNCHANGED } from "./commit.js";
import { activeInstrumentation, type Config } from "./config.js";
import { decodeContents, emptyContents, ownFlash } from "./envelope.js";
import { ErrorCode, SessionError } from "./errors.js";
import { cookieMaxAge, responseHeaders, VARY_ONLY } from "./response-headers.js";
import type { SessionState } from "./state.js";
import { MAX_USER_ID_LENGTH } from "./store.js";
import type { CommitResult, ResponseHeader, Session, SessionInfo } from "./types.js";
import { destroyOtherSessions, destroySession, listSessions } from "./user-sessions.js";

/**
 * express-session's `regenerate(cb)`, `destroy(cb)` and `save(cb)` take a
 * callback that sessionkit would never call, leaving the handler hanging: a
 * function argument is refused at once, naming what to do instead.
 */
function noCallback(method: string, argument: unknown): void {
  if (typeof argument === "function") {
    throw new TypeError(
      `session.${method}() takes no callback: it takes effect at commit, which the adapter ` +
        `runs before the response is sent. Call session.${method}() and carry on (or \`await session.commit()\` to write now).`,
    );
  }
}

/** The result of a commit that wrote nothing and has no cookie to send: frozen, shared. */
const UNCHANGED_RESULT: Promise<CommitResult> = Promise.resolve(
  Object.freeze({ outcome: "unchanged", headers: VARY_ONLY }),
);

/** {@link commitForResponse} of a {@link SessionImpl}, set by the class itself. */
let headersOfCommit: (
  session: SessionImpl<object, object>,
) => readonly ResponseHeader[] | Promise<readonly ResponseHeader[]>;

/**
 * The per-request session object handed to handlers: its own copy of the
 * data, changed in memory; `commit()` hands the state to the write protocol.
 */
export class SessionImpl<Data extends object, Flash extends object>
  implements Session<Data, Flash>
{
  readonly #config: Config;
  readonly #s: SessionState;

  constructor(config: Config, state: SessionState) {
    this.#config = config;
    this.#s = state;
    // `session.user = 1` (the express-session idiom) would be silently lost:
    // in strict-mode code (ESM, TypeScript output) it throws a TypeError instead.
    Object.preventExtensions(this);
  }

  get isNew(): boolean {
    return this.#s.record === undefined;
  }
  get userId(): string | undefined {
    return this.#s.userId;
  }
  get createdAt(): number | undefined {
    return this.#s.record?.createdAt;
  }
  get expiresAt(): number | undefined {
    return this.#s.record?.expiresAt;
  }
  get maxAgeMs(): number | undefined {
    return cookieMaxAge(this.#config, this.#s);
  }

  #open(): void {
    if (this.#s.destroyed || this.#s.closed) {
      throw new SessionError(
        ErrorCode.SESSION_CLOSED,
        this.#s.closed
          ? "this session was ended by another request (logout, expiry or regenerate) while this request changed it; load a new one to start over"
          : "this session was destroyed; load a new one to start over",
      );
    }
  }

  get<K extends keyof Data & string>(key: K): Data[K] | undefined {
    const s = this.#s;
    if (!Object.hasOwn(s.contents.data, key)) return undefined;
    const value = s.contents.data[key];
    // The handler may change an object it is given: the commit must look at it.
    if (value !== null && typeof value === "object" && !s.mayHaveChanged) {
      handOut(this.#config, s, key, value);
    }
    return value as Data[K];
  }

  set<K extends keyof Data & string>(key: K, value: Data[K]): this {
    this.#open();
    if (typeof key !== "string" || FORBIDDEN_KEYS.has(key)) {
      throw new TypeError(`session.set(): ${JSON.stringify(key)} is not an allowed key`);
    }
    if (value === undefined) delete this.#s.contents.data[key];
    else this.#s.contents.data[key] = value;
    this.#s.mayHaveChanged = true;
    return this;
  }

  delete(key: keyof Data & string): this {
    this.#open();
    delete this.#s.contents.data[key];
    this.#s.mayHaveChanged = true;
    return this;
  }

  has(key: keyof Data & string): boolean {
    return Object.hasOwn(this.#s.contents.data, key);
  }

  clear(): this {
    this.#open();
    this.#s.contents.data = Object.create(null);
    this.#s.mayHaveChanged = true;
    return this;
  }

  toJSON(): Partial<Data> {
    this.#s.mayHaveChanged = true;
    return { ...this.#s.contents.data } as Partial<Data>;
  }

  flash<K extends keyof Flash & string>(key: K, message: Flash[K]): this {
    this.#open();
    if (typeof key !== "string" || FORBIDDEN_KEYS.has(key)) {
      throw new TypeError(`session.flash(): ${JSON.stringify(key)} is not an allowed key`);
    }
    const flash = ownFlash(this.#s.contents);
    const queue = flash[key] ?? [];
    queue.push(message);
    flash[key] = queue;
    this.#s.mayHaveChanged = true;
    return this;
  }

  consumeFlash<K extends keyof Flash & string>(key: K): Flash[K][] {
    if (!Object.hasOwn(this.#s.contents.flash, key)) return [];
    const messages = this.#s.contents.flash[key] as Flash[K][];
    delete ownFlash(this.#s.contents)[key];
    this.#s.mayHaveChanged = true;
    return messages;
  }

  setUser(userId: string | undefined): this {
    this.#open();
    if (
      userId !== undefined &&
      (typeof userId !== "string" || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH)
    ) {
      throw new TypeError(
        `session.setUser(): userId must be a string of 1 to ${MAX_USER_ID_LENGTH} characters, or undefined`,
      );
    }
    this.#s.userId = userId;
    this.#s.mayHaveChanged = true;
    return this;
  }

  regenerate(options: { readonly keep?: readonly (keyof Data & string)[] } = {}): this {
    noCallback("regenerate", options);
    this.#open();
    // Filtered now, not at commit: values set after this call belong to the new session.
    if (options.keep !== undefined) {
      const kept: Record<string, unknown> = Object.create(null);
      for (const key of options.keep) {
        if (Object.hasOwn(this.#s.contents.data, key)) kept[key] = this.#s.contents.data[key];
      }
      this.#s.contents.data = kept;
      this.#s.mayHaveChanged = true;
    }
    this.#s.regenerate = true;
    return this;
  }

  persist(maxAgeMs: number | false): this {
    this.#open();
    if (maxAgeMs !== false && !(Number.isSafeInteger(maxAgeMs) && maxAgeMs > 0)) {
      throw new TypeError("session.persist(): pass a positive whole number of ms, or false");
    }
    this.#s.contents.persist =
      maxAgeMs === false ? false : Math.min(maxAgeMs, this.#config.maxPersistMs);
    this.#s.persistChanged = true;
    this.#s.mayHaveChanged = true;
    return this;
  }

  destroy(callback?: unknown): this {
    noCallback("destroy", callback);
    this.#s.destroyed = true;
    return this;
  }

  discard(): this {
    const s = this.#s;
    if (s.closed) return this;
    const { record } = s;
    const contents =
      record === undefined
        ? null
        : decodeContents(this.#config.codec, record.payload, this.#config.maxPayloadBytes);
    s.contents = contents ?? emptyContents(this.#config.version);
    s.userId = record?.userId;
    s.regenerate = false;
    s.destroyed = false;
    s.persistChanged = false;
    s.mayHaveChanged = false;
    s.handedOut = undefined;
    return this;
  }

  destroyOtherSessions(): Promise<number> {
    return destroyOtherSessions(this.#config, this.#s);
  }

  listSessions(): Promise<SessionInfo<Data>[]> {
    return listSessions<Data>(this.#config, this.#s);
  }

  destroySession(handle: string): Promise<boolean> {
    return destroySession(this.#config, this.#s, handle);
  }

  exportToken(): string | null {
    const { id, destroyed, closed } = this.#s;
    return id === undefined || destroyed || closed ? null : this.#config.signer.sign(id);
  }

  commit(callback?: unknown): Promise<CommitResult> {
    const config = this.#config;
    const s = this.#s;
    let outcome: Promise<CommitResult["outcome"]>;
    try {
      noCallback("commit", callback);
      outcome = this.#commitState();
    } catch (error) {
      return Promise.reject(error);
    }
    // Nothing written and no cookie to send: one answer serves every such commit.
    if (outcome === UNCHANGED && s.cookie === "none") return UNCHANGED_RESULT;
    return outcome.then((outcome) => ({ outcome, headers: responseHeaders(config, s) }));
  }

  static {
    headersOfCommit = (session) => session.#commitHeaders();
  }

  /** {@link commit}'s headers alone: at once when it writes nothing and sends no cookie. */
  #commitHeaders(): readonly ResponseHeader[] | Promise<readonly ResponseHeader[]> {
    const config = this.#config;
    const s = this.#s;
    let outcome: Promise<CommitResult["outcome"]>;
    try {
      outcome = this.#commitState();
    } catch (error) {
      return Promise.reject(error);
    }
    if (outcome === UNCHANGED && s.cookie === "none") return VARY_ONLY;
    return outcome.then(() => responseHeaders(config, s));
  }

  #commitState(): Promise<CommitResult["outcome"]> {
    const config = this.#config;
    const s = this.#s;
    const instrumentation = activeInstrumentation(config);
    return instrumentation === undefined
      ? commitState(config, s)
      : instrumentation.wrap(
          {
            kind: "commit",
            operation: "commit",
            store: config.store.name,
            sessionName: config.cookieName,
          },
          (details) => {
            const retriesBefore = s.retries;
            return commitState(config, s).then(
              (result) => {
                details({ outcome: result, retries: s.retries - retriesBefore });
                return result;
              },
              (error: unknown) => {
                details({ retries: s.retries - retriesBefore });
                throw error;
              },
            );
          },
        );
  }
}

/**
 * Commits `session` for a response about to be sent and answers the headers
 * that response needs, as `session.commit()` then its `headers` would: the
 * array itself, with no promise, when the commit writes nothing and has no
 * cookie to send (a read of an unchanged session), so the response can go out
 * on the spot; otherwise a promise of them once the commit has finished (it
 * rejects as `commit()` does). A session of another copy of this package is
 * committed through its `commit()`.
 */
export function commitForResponse(
  session: Session<object, object>,
): readonly ResponseHeader[] | Promise<readonly ResponseHeader[]> {
  return session instanceof SessionImpl
    ? headersOfCommit(session)
    : session.commit().then((result) => result.headers);
}
