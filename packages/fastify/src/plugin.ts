import type { Readable } from "node:stream";
import type { ResponseHeader, Session, SessionManager } from "@sessionkit/core";
import {
  applyHeaders,
  assertManager,
  commitForResponse,
  type DeclaredSessions,
  failureReporter,
  logFailure,
  objectSlot,
  RequestFailures,
  resolveAdapterOptions,
  SessionHttpError,
  type SessionManagerFor,
} from "@sessionkit/core/adapter";
import { loopTurn, resumeInTurn } from "@sessionkit/core/node";
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";

/**
 * The sessions this plugin puts on `FastifyRequest`, by `sessionName`. Empty
 * by default, which makes `request.session` an untyped `Session`. Augment it
 * to type the default session and to declare named ones:
 *
 * @example
 * ```ts
 * declare module "@sessionkit/fastify" {
 *   interface FastifySessions {
 *     session: Session<{ cart: string[] }>;
 *     prefs: Session<{ theme: string }>; // app.register(sessionPlugin, { manager: prefs, sessionName: "prefs" })
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: an augmentation point, filled in by applications.
export interface FastifySessions {}

declare module "fastify" {
  // Declaration merging adds `request.session` (and any named session declared
  // in FastifySessions) to every request type.
  interface FastifyRequest extends DeclaredSessions<FastifySessions> {}
}

const ADAPTER = "@sessionkit/fastify";
type RequestSessions = DeclaredSessions<FastifySessions>;

type ManagerFor<Name extends keyof RequestSessions> = SessionManagerFor<RequestSessions[Name]>;
type NamedSession = Exclude<keyof RequestSessions, "session"> & string;

/** The options every sessionkit adapter takes. */
export interface SessionAdapterOptions<Name extends string = "session"> {
  /**
   * The request property holding the session (`request[sessionName]`): an
   * identifier other than `__proto__`, `constructor` and `prototype`. A name
   * other than `"session"` must be declared in {@link FastifySessions}.
   * @default "session"
   */
  readonly sessionName?: Name;
  /**
   * Called once with each failure to load or commit the session, with the
   * original error. Either way the failure goes through Fastify's error
   * handling (your `setErrorHandler`, or Fastify's default, which logs it
   * through `request.log.error`). Without this option and without a Fastify
   * logger, it is also logged with `console.error`, never silently dropped.
   * Errors of your handlers never come here.
   * @default undefined (see above)
   */
  readonly onError?: (error: unknown, request: FastifyRequest) => void;
}

/**
 * Options of {@link sessionPlugin}: {@link SessionAdapterOptions} plus the
 * manager. A named session (`sessionName: "prefs"`) must be declared in
 * {@link FastifySessions}; the manager's data type must match it.
 */
export type SessionPluginOptions =
  | (SessionAdapterOptions<"session"> & {
      /** The manager whose session this registration loads and commits. */
      readonly manager: ManagerFor<"session">;
    })
  | {
      [Name in NamedSession]: SessionAdapterOptions<Name> & {
        readonly manager: ManagerFor<Name>;
        readonly sessionName: Name;
      };
    }[NamedSession];

// Requests whose handler threw or whose session failed, shared by every
// registration: once one session fails, no other session of it commits.
const failures = new RequestFailures();

/**
 * Without a logger (`Fastify()` has none by default) `request.log` is a
 * placeholder whose methods do nothing and which has no `level`; every real
 * logger Fastify builds (pino) has one.
 */
function hasLogger(app: FastifyInstance): boolean {
  return typeof (app.log as { level?: unknown }).level === "string";
}

/** Drops a payload that will never be sent: a stream is destroyed unread. */
function discard(payload: unknown): void {
  if (payload === null || typeof payload !== "object") return;
  if (typeof (payload as Readable).destroy === "function" && "pipe" in payload) {
    (payload as Readable).destroy();
  } else if (payload instanceof ReadableStream) {
    payload.cancel().catch(() => {});
  } else if (payload instanceof Response) {
    payload.body?.cancel().catch(() => {});
  }
}

/** A reply as a header target: Fastify appends `set-cookie` values itself. */
function replyHeaders(reply: FastifyReply) {
  return {
    get: (name: string) => reply.getHeader(name),
    set: (name: string, value: string) => void reply.header(name, value),
    append: (name: string, value: string) => void reply.header(name, value),
  };
}

async function plugin(app: FastifyInstance, options: SessionPluginOptions): Promise<void> {
  assertManager(options?.manager, ADAPTER);
  const manager = options.manager as SessionManager<object, object>;
  const { sessionName } = resolveAdapterOptions<string, SessionAdapterOptions["onError"]>(
    ADAPTER,
    options,
  );
  const report = failureReporter(options.onError, logFailure);
  // Fastify's default error handler logs raised failures through the app's
  // logger; without one it would drop them, so the adapter logs them then.
  const frameworkReports = hasLogger(app);
  /**
   * Hands a session failure to Fastify's error handling: the request is
   * marked failed, the reply's headers (the app's cookies, another
   * session's) are dropped, the failure reported, and the returned error is
   * what the hook passes on: a {@link SessionHttpError}, or what the app's
   * `onError` threw. Never throws.
   */
  const raise = (request: FastifyRequest, reply: FastifyReply, error: unknown): Error => {
    failures.markFailed(request);
    for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
    try {
      report(error, request, frameworkReports);
    } catch (thrown) {
      return thrown as Error; // from the app's onError
    }
    return new SessionHttpError(error);
  };
  // Fastify 5 refuses reference-type defaults: null, then the real session per
  // request. A second registration under the same name fails here, at start-up.
  app.decorateRequest(sessionName, null);
  // Kept on request.raw, in the holder where the manager already keeps its
  // session: Fastify's request gets no property of ours (one added to it cost
  // 1.3-2.4 µs per request, timed in place; a value in the holder, 0.15 µs).
  const sessions = objectSlot<Session<object, object>>("sessionkit.fastify.session");

  app.addHook("onRequest", (request, reply, done) => {
    const arrived = loopTurn();
    // Whatever throws here reaches Fastify through done(), never the process.
    const failed = (error: unknown): void => done(raise(request, reply, error));
    const loaded = (session: Session<object, object>): void => {
      try {
        sessions.set(request.raw, session);
        (request as unknown as Record<string, unknown>)[sessionName] = session;
      } catch (error) {
        failed(error);
        return;
      }
      done();
    };
    // Under load, a load that needed no I/O continues on this turn's check
    // phase, with the turn's other requests (resumeInTurn).
    manager.load(request.raw).then((session) => resumeInTurn(arrived, loaded, session), failed);
  });

  // Fastify runs onError before the error handler for every error of the
  // request (a throwing handler or hook, a failed validation): nothing of
  // that request is saved.
  app.addHook("onError", async (request) => {
    failures.markFailed(request);
  });

  // onSend runs after the payload is serialised and before the status line
  // and headers are written: the last moment the commit can still change them.
  // A callback hook, not an async one: a commit with nothing to write goes on
  // at once, with no promise.
  app.addHook("onSend", (request, reply, payload, done) => {
    const session = sessions.get(request.raw);
    sessions.set(request.raw, undefined);
    if (session === undefined || !failures.shouldCommit(request)) {
      done(null, payload);
      return;
    }
    const committed = (headers: readonly ResponseHeader[]): void => {
      try {
        // Every commit answers at least `Vary: Cookie`.
        applyHeaders(replyHeaders(reply), headers);
      } catch (error) {
        failedCommit(error);
        return;
      }
      done(null, payload);
    };
    const failedCommit = (error: unknown): void => {
      discard(payload);
      done(raise(request, reply, error));
    };
    const headers = commitForResponse(session);
    if (headers instanceof Promise) headers.then(committed, failedCommit);
    else committed(headers);
  });
}

/**
 * Fastify 5 plugin: loads a session in `onRequest` into `request.session` (or
 * `request[sessionName]`), and commits it in `onSend`, before any byte of the
 * response is written. Register it once per session manager.
 *
 * Changes are committed unless the handler threw: a reply with any status (a
 * 4xx, a 503 after `session.destroy()`) commits; an error thrown by a handler
 * or hook saves nothing; `session.discard()` drops changes explicitly. A
 * failed load or commit is thrown to Fastify's error handling as a
 * {@link SessionHttpError} (`statusCode` 503/500/409, a bare message, the
 * original error as `cause`), with the reply's headers dropped.
 *
 * @example
 * ```ts
 * const app = Fastify({ logger: true });
 * await app.register(sessionPlugin, { manager: sessions });
 * app.post("/cart", async (request) => {
 *   request.session.set("cart", [...(request.session.get("cart") ?? []), "apple"]);
 *   return { items: request.session.get("cart")?.length };
 * });
 * ```
 */
export const sessionPlugin: FastifyPluginAsync<SessionPluginOptions> = Object.assign(plugin, {
  // What fastify-plugin does: no encapsulation, so the decoration and hooks
  // apply to the whole app, not only to routes registered inside the plugin.
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "@sessionkit/fastify",
});
