import {
  applyNodeHeaders,
  errorStatus,
  type ResponseHeader,
  type Session,
  type SessionManager,
} from "@sessionkit/core";
import type { Context, Middleware } from "koa";

/**
 * The sessions this middleware puts on Koa's context, by property name. Empty
 * by default, which makes `ctx.session` an untyped `Session`. Augment it to
 * type the default session and to declare named ones:
 *
 * @example
 * ```ts
 * declare module "@sessionkit/koa" {
 *   interface KoaSessions {
 *     session: Session<{ cart: string[] }>;
 *     prefs: Session<{ theme: string }>; // app.use(session(prefs, { property: "prefs" }))
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: an augmentation point, filled in by applications.
export interface KoaSessions {}

/** Every session property of Koa's context: the augmented {@link KoaSessions} plus the default `session`. */
export type ResolvedKoaSessions = Omit<KoaSessions, "session"> & {
  session: KoaSessions extends { session: infer S } ? S : Session;
};

declare module "koa" {
  // Declaration merging types `ctx.session` (and any named session declared in
  // KoaSessions) on every context. koa-session declares `ctx.session` too: use
  // one or the other, or give ours another `property`.
  interface DefaultContext extends ResolvedKoaSessions {}
}

type DataOf<S> = S extends Session<infer Data, object> ? Data : never;
type FlashOf<S> = S extends Session<object, infer Flash> ? Flash : never;

/** The manager type a session property accepts: its data types must match {@link KoaSessions}. */
export type KoaSessionManager<Name extends keyof ResolvedKoaSessions> = SessionManager<
  DataOf<ResolvedKoaSessions[Name]>,
  FlashOf<ResolvedKoaSessions[Name]>
>;

/** Options of {@link session}. */
export interface KoaSessionOptions<Name extends keyof ResolvedKoaSessions & string = "session"> {
  /**
   * The context property holding the session (`ctx[property]`). Give each
   * manager its own name to use several sessions in one request; a name other
   * than `"session"` must be declared in {@link KoaSessions}.
   * @default "session"
   */
  readonly property?: Name;
  /**
   * Called with load and commit failures; the client gets a bare 503/500.
   * @default `ctx.app.emit("error", error, ctx)`, Koa's usual error logging
   */
  readonly onError?: (error: unknown, ctx: Context) => void;
}

// Requests whose session handling failed, shared by every middleware instance:
// once one session fails, no other session of that request is committed or
// sends a cookie, and the bare error response is left alone.
const failedContexts = new WeakSet<object>();

function fail(ctx: Context, error: unknown, onError: (error: unknown, ctx: Context) => void): void {
  failedContexts.add(ctx);
  onError(error, ctx);
  const previous: unknown = ctx.body;
  if (
    previous !== null &&
    typeof previous === "object" &&
    typeof (previous as { pipe?: unknown }).pipe === "function" &&
    typeof (previous as { destroy?: unknown }).destroy === "function"
  ) {
    // A stream body that will never be sent.
    (previous as { destroy(): void }).destroy();
  }
  // A bare response: no app headers, no session cookie, no details (A24, A39).
  for (const name of ctx.res.getHeaderNames()) ctx.res.removeHeader(name);
  const { status, body } = errorStatus(error);
  ctx.status = status;
  ctx.type = "text/plain; charset=utf-8";
  ctx.set("Cache-Control", "no-store");
  ctx.body = body;
}

/**
 * Koa 2 and 3 middleware: loads the session into `ctx.session` (or
 * `ctx[property]`) before the downstream middleware runs, and after them
 * commits it and adds the session headers, before Koa writes the response.
 * If the downstream threw, nothing is committed and the error is rethrown to
 * your error handling; a failed commit becomes a bare 503/500.
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
export function session<Name extends keyof ResolvedKoaSessions & string = "session">(
  manager: KoaSessionManager<Name>,
  options: KoaSessionOptions<Name> = {},
): Middleware {
  if (manager === null || typeof manager !== "object" || typeof manager.load !== "function") {
    throw new TypeError("session(manager): pass a SessionManager");
  }
  const property: string = options.property ?? "session";
  const onError =
    options.onError ?? ((error: unknown, ctx: Context) => ctx.app.emit("error", error, ctx));
  const loader = manager as unknown as SessionManager<object, object>;
  return async (ctx, next) => {
    let current: Session<object, object>;
    try {
      current = await loader.load(ctx.req);
    } catch (error) {
      fail(ctx, error, onError);
      return;
    }
    (ctx as unknown as Record<string, unknown>)[property] = current;
    // A throw propagates untouched: the handler's changes are not saved (A25).
    await next();
    if (failedContexts.has(ctx)) return;
    if (ctx.headerSent) {
      // The response was written directly to ctx.res: a cookie can no longer
      // reach the client, so nothing is saved rather than saved unannounced.
      onError(
        new Error(`@sessionkit/koa: the response was sent before ctx.${property} was committed`),
        ctx,
      );
      return;
    }
    let headers: readonly ResponseHeader[];
    try {
      headers = (await current.commit()).headers;
    } catch (error) {
      fail(ctx, error, onError);
      return;
    }
    // Appends Set-Cookie (other cookies stay, A10) and merges Vary (A37).
    applyNodeHeaders(ctx.res, headers);
  };
}
