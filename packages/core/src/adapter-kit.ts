import { ErrorCode, SessionError } from "./errors.js";
import type { Session, SessionManager } from "./types.js";

/**
 * The sessions an adapter's typing registry declares (an interface apps
 * augment, such as `FastifySessions`), with `session` defaulting to an
 * untyped `Session` until the app declares it.
 */
export type DeclaredSessions<Registry> = Omit<Registry, "session"> & {
  session: Registry extends { session: infer S } ? S : Session;
};

/** The manager whose sessions are of the declared type `S` (a `Session<Data, Flash>`). */
export type SessionManagerFor<S> = SessionManager<
  S extends Session<infer Data, object> ? Data : never,
  S extends Session<object, infer Flash> ? Flash : never
>;

/**
 * Checks that `manager` is a `SessionManager` (by shape, so a second copy of
 * core passes), else throws a `TypeError` naming the adapter.
 *
 * @example
 * ```ts
 * export function session(manager: SessionManager) {
 *   assertManager(manager, "@sessionkit/express");
 *   // …
 * }
 * ```
 */
export function assertManager(
  manager: unknown,
  adapterName: string,
): asserts manager is SessionManager<object, object> {
  if (
    manager === null ||
    typeof manager !== "object" ||
    typeof (manager as { load?: unknown }).load !== "function"
  ) {
    throw new TypeError(
      `${adapterName}: pass a SessionManager from createSessionManager() (got ${describe(manager)})`,
    );
  }
}

/**
 * What a request's session slot holds when a middleware is about to fill it:
 * `"free"`; `"same"` when it already holds this very session (the same
 * manager installed twice: the first middleware commits it); or, when
 * another manager's session is there, the `TypeError` to raise, since the two
 * would silently shadow each other.
 *
 * @example
 * ```ts
 * const state = slotState(ctx[sessionName], session, "@sessionkit/koa", `ctx.${sessionName}`);
 * if (state instanceof TypeError) throw state;
 * ```
 */
export function slotState(
  existing: unknown,
  session: object,
  adapterName: string,
  slot: string,
): "free" | "same" | TypeError {
  if (existing === undefined) return "free";
  if (existing === session) return "same";
  return new TypeError(
    `${adapterName}: ${slot} is already set: give each session middleware its own sessionName`,
  );
}

const SESSION_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const FORBIDDEN_NAMES = new Set(["__proto__", "constructor", "prototype"]);

/** The options every adapter takes, as {@link resolveAdapterOptions} reads them. */
export interface AdapterOptionsInput<Name extends string, OnError> {
  /** The request slot holding the session. @default "session" */
  readonly sessionName?: Name | undefined;
  /** The app's handler of session failures. @default undefined (the adapter's own reporting) */
  readonly onError?: OnError | undefined;
}

/** {@link AdapterOptionsInput} checked, with the default slot name filled in. */
export interface ResolvedAdapterOptions<Name extends string, OnError> {
  /** The request slot holding the session. */
  readonly sessionName: Name;
  /** The app's failure handler, or `undefined` for the adapter's default. */
  readonly onError: OnError | undefined;
}

/**
 * Reads an adapter's common options: `sessionName` (default `"session"`)
 * must be an identifier other than `__proto__`, `constructor` and
 * `prototype`; `onError` must be a function when given. Anything else throws
 * `SessionError` `INVALID_CONFIG` naming the adapter.
 *
 * @example
 * ```ts
 * const { sessionName, onError } = resolveAdapterOptions("@sessionkit/koa", options);
 * ```
 */
export function resolveAdapterOptions<Name extends string, OnError>(
  adapterName: string,
  options: AdapterOptionsInput<Name, OnError> | undefined,
): ResolvedAdapterOptions<Name, OnError> {
  if (options === undefined) return { sessionName: "session" as Name, onError: undefined };
  if (options === null || typeof options !== "object") {
    throw adapterConfigError(adapterName, `options must be an object (got ${describe(options)})`);
  }
  const sessionName = options.sessionName ?? ("session" as Name);
  if (
    typeof sessionName !== "string" ||
    !SESSION_NAME.test(sessionName) ||
    FORBIDDEN_NAMES.has(sessionName)
  ) {
    throw adapterConfigError(
      adapterName,
      `sessionName must be an identifier other than __proto__, constructor and prototype (got ${describe(sessionName)})`,
    );
  }
  const { onError } = options;
  if (onError !== undefined && typeof onError !== "function") {
    throw adapterConfigError(adapterName, `onError must be a function (got ${describe(onError)})`);
  }
  return { sessionName, onError };
}

function adapterConfigError(adapterName: string, message: string): SessionError {
  return new SessionError(ErrorCode.INVALID_CONFIG, `${adapterName}: ${message}`);
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  if (value === null) return "null";
  return typeof value;
}

/**
 * The requests whose session changes must not be saved: the handler threw,
 * or one of the request's sessions failed to load or commit. One instance per
 * adapter module, shared by every middleware instance, so once one session of
 * a request fails no other session of it commits or sends a cookie. Keys are
 * held weakly: a finished request leaves nothing behind.
 *
 * @example
 * ```ts
 * const failures = new RequestFailures();
 * // in the framework's error hook:
 * failures.markFailed(request);
 * // before committing:
 * if (failures.shouldCommit(request)) await session.commit();
 * ```
 */
export class RequestFailures {
  readonly #failed = new WeakSet<object>();

  /** Records that the request's handler threw, or that one of its sessions failed. */
  markFailed(request: object): void {
    this.#failed.add(request);
  }

  /**
   * The one commit rule of every adapter: a request's session changes are
   * committed unless its handler threw (or another of its sessions failed).
   * An answer with any status, 4xx or 5xx included, commits when nothing
   * threw; `session.discard()` drops changes explicitly.
   */
  shouldCommit(request: object): boolean {
    return !this.#failed.has(request);
  }
}

/** How an adapter reports a session failure: once, with the original error. */
export type FailureReport<Context> = (
  error: unknown,
  context: Context,
  frameworkReports: boolean,
) => void;

/**
 * Builds an adapter's failure reporter. Every session failure goes to the
 * app's `onError` when it gave one. Without one, a failure the framework's
 * own error path reports (the adapter raised it there, and that path logs or
 * emits it: Express's final handler, Fastify's default error handler, Koa's
 * `error` event) is left to it, and any other goes to `fallback` (the
 * framework's logger or event, else {@link logFailure}): each failure is
 * reported exactly once by default, never zero times.
 *
 * @example
 * ```ts
 * const report = failureReporter(options.onError, logFailure);
 * report(error, req, false); // logged with console.error unless onError was given
 * ```
 */
export function failureReporter<Context>(
  onError: ((error: unknown, context: Context) => void) | undefined,
  fallback: (error: unknown, context: Context) => void,
): FailureReport<Context> {
  return (error, context, frameworkReports) => {
    if (onError !== undefined) onError(error, context);
    else if (!frameworkReports) fallback(error, context);
  };
}

/**
 * The last-resort report of a session failure: `console.error`, for the
 * servers that have no logger of their own (node:http, the Fetch API wrapper,
 * Express, Hono). Pass `onError` to send failures to your logger instead.
 */
export function logFailure(error: unknown): void {
  console.error(error);
}

/**
 * Calls an app's error callback where the error has nowhere further to go
 * (the bare answer is already decided): a callback that throws is logged with
 * {@link logFailure} instead, so it never becomes an uncaught exception or an
 * unhandled rejection that would end the process. Internal.
 */
export function reportLast(onError: (error: unknown) => void, error: unknown): void {
  try {
    onError(error);
  } catch (thrown) {
    logFailure(thrown);
  }
}
