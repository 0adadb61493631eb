import type { ResponseHeader, Session, SessionManager } from "@sessionkit/core";
import {
  assertManager,
  type DeclaredSessions,
  failureReporter,
  RequestFailures,
  resolveAdapterOptions,
  SessionHttpError,
  type SessionManagerFor,
  slotState,
} from "@sessionkit/core/adapter";
import { applyNodeHeaders, defersInTurn, loopTurn } from "@sessionkit/core/node";
import type { Context, Middleware } from "koa";

/**
 * The sessions this middleware puts on Koa's context, by `sessionName`.
 * Empty by default, which makes `ctx.session` an untyped `Session`. Augment it
 * to type the default session and to declare named ones:
 *
 * @example
 * ```ts
 * declare module "@sessionkit/koa" {
 *   interface KoaSessions {
 *     session: Session<{ cart: string[] }>;
 *     prefs: Session<{ theme: string }>; // app.use(session(prefs, { sessionName: "prefs" }))
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: an augmentation point, filled in by applications.
export interface KoaSessions {}

declare module "koa" {
  // Declaration merging types `ctx.session` (and any named session declared in
  // KoaSessions) on every context. koa-session declares `ctx.session` too: use
  // one or the other, or give ours another `sessionName`.
  interface DefaultContext extends DeclaredSessions<KoaSessions> {}
}

type ContextSessions = DeclaredSessions<KoaSessions>;

/** The manager type a session slot accepts: its data types must match {@link KoaSessions}. */
export type KoaSessionManager<Name extends keyof ContextSessions> = SessionManagerFor<
  ContextSessions[Name]
>;

/** Options of {@link session}. */
export interface SessionAdapterOptions<Name extends keyof ContextSessions & string = "session"> {
  /**
   * The context property holding the session (`ctx[sessionName]`): an
   * identifier other than `__proto__`, `constructor` and `prototype`. Give
   * each manager its own to use several sessions in one request; a name
   * other than `"session"` must be declared in {@link KoaSessions}.
   * @default "session"
   */
  readonly sessionName?: Name;
  /**
   * Called once with each failure to load or commit the session, with the
   * original error. Either way the failure is thrown to Koa's error handling
   * (your error middleware, or Koa's default, which emits it as the app's
   * `"error"` event: logged with `console.error` unless you listen). A
   * response written around Koa before the commit is reported here too,
   * by default as the app's `"error"` event.
   * @default undefined (see above)
   */
  readonly onError?: (error: unknown, ctx: Context) => void;
}

const ADAPTER = "@sessionkit/koa";
// Requests whose handler threw or whose session failed, shared by every
// middleware instance: once one session fails, no other session of it commits.
const failures = new RequestFailures();

/**
 * Koa 2 and 3 middleware: loads the session into `ctx.session` (or
 * `ctx[sessionName]`) before the downstream middleware runs, and after them
 * commits it and adds the session headers, before Koa writes the response.
 *
 * Changes are committed unless the downstream threw: a response with any
 * status (a 4xx, a 503 after `session.destroy()`) commits; a thrown error,
 * `ctx.throw(400)` included, saves nothing and is rethrown to your error
 * handling; `session.discard()` drops changes explicitly. A failed load or
 * commit is thrown as a {@link SessionHttpError} (status 503/500/409,
 * `expose: false`, the original error as `cause`), which Koa's default error
 * handling answers with a bare `text/plain` status text.
 *
 * @example
 * ```ts
 * const app = new Koa();
 * app.use(session(sessions));
 * app.use(async (ctx) => {
 *   ctx.session.set("visits", (ctx.session.get("visits") ?? 0) + 1);
 *   ctx.body = `visit ${ctx.session.get("visits")}`;
 * });
 * ```
 */
export function session<Name extends keyof ContextSessions & string = "session">(
  manager: KoaSessionManager<Name>,
  options?: SessionAdapterOptions<Name>,
): Middleware {
  assertManager(manager, ADAPTER);
  const { sessionName, onError } = resolveAdapterOptions(ADAPTER, options);
  const report = failureReporter(onError, (error: unknown, ctx: Context) => {
    ctx.app.emit("error", error, ctx);
  });
  const loader = manager as unknown as SessionManager<object, object>;
  /**
   * Hands a session failure to Koa's error handling: the context is marked
   * failed, a stream body is destroyed unsent, the response's headers (the
   * app's cookies, another session's) are dropped, and the returned error
   * is thrown.
   */
  const raise = (ctx: Context, error: unknown): SessionHttpError => {
    failures.markFailed(ctx);
    // Koa's default error handling emits a thrown error as the app's "error" event.
    report(error, ctx, true);
    const body: unknown = ctx.body;
    if (
      body !== null &&
      typeof body === "object" &&
      typeof (body as { pipe?: unknown }).pipe === "function" &&
      typeof (body as { destroy?: unknown }).destroy === "function"
    ) {
      (body as { destroy(): void }).destroy();
    }
    for (const name of ctx.res.getHeaderNames()) ctx.res.removeHeader(name);
    return new SessionHttpError(error);
  };
  return async (ctx, next) => {
    const arrived = loopTurn();
    let current: Session<object, object>;
    try {
      current = await loader.load(ctx.req);
    } catch (error) {
      throw raise(ctx, error);
    }
    // Under load, a load that needed no I/O continues on this turn's check
    // phase, with the turn's other requests; otherwise next() runs at once
    // (defersInTurn).
    if (defersInTurn(arrived)) await new Promise<void>((resolve) => setImmediate(resolve));
    const slot = ctx as unknown as Record<string, unknown>;
    const state = slotState(slot[sessionName], current, ADAPTER, `ctx.${sessionName}`);
    if (state instanceof TypeError) throw raise(ctx, state);
    if (state === "same") {
      // The same manager installed twice: the outer middleware commits.
      await next();
      return;
    }
    slot[sessionName] = current;
    try {
      await next();
    } catch (error) {
      // The handler threw: its changes are not saved, the error goes on.
      failures.markFailed(ctx);
      throw error;
    }
    if (!failures.shouldCommit(ctx)) return;
    if (ctx.headerSent) {
      // The response was written directly to ctx.res: a cookie can no longer
      // reach the client, so nothing is saved rather than saved unannounced.
      report(
        new Error(
          `${ADAPTER}: the response was sent before ctx.${sessionName} was committed; nothing was saved`,
        ),
        ctx,
        false,
      );
      return;
    }
    let headers: readonly ResponseHeader[];
    try {
      headers = (await current.commit()).headers;
    } catch (error) {
      throw raise(ctx, error);
    }
    // Appends Set-Cookie (other cookies stay) and merges Vary.
    applyNodeHeaders(ctx.res, headers);
  };
}
