import type { Readable } from "node:stream";
import {
  errorStatus,
  type ResponseHeader,
  type Session,
  type SessionManager,
} from "@sessionkit/core";
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";

/**
 * The sessions this plugin puts on `FastifyRequest`, by decorator name. Empty
 * by default, which makes `request.session` an untyped `Session`. Augment it
 * to type the default session and to declare named ones:
 *
 * @example
 * ```ts
 * declare module "@sessionkit/fastify" {
 *   interface FastifySessions {
 *     session: Session<{ cart: string[] }>;
 *     prefs: Session<{ theme: string }>; // app.register(sessionPlugin, { manager: prefs, decorator: "prefs" })
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: an augmentation point, filled in by applications.
export interface FastifySessions {}

/** Every session property of `FastifyRequest`: the augmented {@link FastifySessions} plus the default `session`. */
export type ResolvedFastifySessions = Omit<FastifySessions, "session"> & {
  session: FastifySessions extends { session: infer S } ? S : Session;
};

declare module "fastify" {
  // Declaration merging adds `request.session` (and any named session declared
  // in FastifySessions) to every request type.
  interface FastifyRequest extends ResolvedFastifySessions {}
}

type DataOf<S> = S extends Session<infer Data, object> ? Data : never;
type FlashOf<S> = S extends Session<object, infer Flash> ? Flash : never;
type ManagerFor<Name extends keyof ResolvedFastifySessions> = SessionManager<
  DataOf<ResolvedFastifySessions[Name]>,
  FlashOf<ResolvedFastifySessions[Name]>
>;

interface CommonOptions {
  /**
   * Called once with each failure to load or commit the session (the client
   * gets a bare 503/500/409, never the error). Errors of your handlers go to
   * Fastify's error handler as usual, not here.
   * @default `request.log.error` when the Fastify instance has a logger, else `console.error`
   */
  readonly onError?: (error: unknown, request: FastifyRequest) => void;
}

/**
 * Without a logger (`Fastify()` has none by default) `request.log` is a
 * placeholder whose methods do nothing and which has no `level`; every real
 * logger Fastify builds (pino) has one.
 */
function hasLogger(app: FastifyInstance): boolean {
  return typeof (app.log as { level?: unknown }).level === "string";
}

/**
 * Options of {@link sessionPlugin}: the manager, and the request property it
 * fills. A named session (`decorator: "prefs"`) must be declared in
 * {@link FastifySessions}; the manager's data type must match it.
 */
export type SessionPluginOptions =
  | (CommonOptions & {
      /** The manager whose session this registration loads and commits. */
      readonly manager: ManagerFor<"session">;
      /**
       * The request property holding the session.
       * @default "session"
       */
      readonly decorator?: "session";
    })
  | {
      [Name in Exclude<keyof ResolvedFastifySessions, "session"> & string]: CommonOptions & {
        readonly manager: ManagerFor<Name>;
        readonly decorator: Name;
      };
    }[Exclude<keyof ResolvedFastifySessions, "session"> & string];

// One entry per request whose session handling failed, shared by every
// registration of the plugin: once one session fails, no other session of
// that request is committed or sends a cookie.
const failedRequests = new WeakSet<object>();

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

/** Turns the reply into a bare 503/500: no app headers, no session cookie, no details (A24, A39). */
function bareError(reply: FastifyReply, error: unknown): string {
  const { status, body } = errorStatus(error);
  reply.removeHeader("set-cookie");
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
  reply.code(status);
  reply.header("content-type", "text/plain; charset=utf-8");
  reply.header("cache-control", "no-store");
  return body;
}

function applyReplyHeaders(reply: FastifyReply, headers: readonly ResponseHeader[]): void {
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === "set-cookie") {
      // Fastify appends set-cookie values to the ones already on the reply
      // (never replaces them): pass only the new one, or the app's cookies
      // go out twice. Other cookies of the reply stay (A10).
      reply.header("set-cookie", value);
    } else if (lower === "vary") {
      const existing = reply.getHeader("vary");
      const current = Array.isArray(existing) ? existing.join(", ") : (existing?.toString() ?? "");
      const parts = current.split(",").map((part) => part.trim().toLowerCase());
      if (current.trim() === "") reply.header("vary", value);
      else if (!parts.includes("cookie") && !parts.includes("*"))
        reply.header("vary", `${current}, ${value}`);
    } else {
      reply.header(name, value);
    }
  }
}

async function plugin(app: FastifyInstance, options: SessionPluginOptions): Promise<void> {
  const manager = options.manager as SessionManager<object, object>;
  const name: string = options.decorator ?? "session";
  const onError =
    options.onError ??
    (hasLogger(app)
      ? (error: unknown, request: FastifyRequest) =>
          request.log.error({ err: error }, `@sessionkit/fastify: "${name}" session failed`)
      : (error: unknown) => {
          console.error(error);
        });
  if (manager === null || typeof manager !== "object" || typeof manager.load !== "function") {
    throw new TypeError("@sessionkit/fastify: options.manager must be a SessionManager");
  }
  // Fastify 5 refuses reference-type defaults: null, then the real session per request.
  app.decorateRequest(name, null);
  const sessions = new WeakMap<FastifyRequest, Session<object, object>>();
  // A handler (or hook, or validation) that failed: its changes are not saved (A25).
  const erroredRequests = new WeakSet<FastifyRequest>();

  app.addHook("onRequest", async (request, reply) => {
    if (failedRequests.has(request)) return;
    let session: Session<object, object>;
    try {
      session = await manager.load(request.raw);
    } catch (error) {
      failedRequests.add(request);
      onError(error, request);
      return reply.send(bareError(reply, error));
    }
    sessions.set(request, session);
    (request as unknown as Record<string, unknown>)[name] = session;
    return undefined;
  });

  // onError runs before the error handler, for every error that reaches it
  // (a throwing handler or hook, a failed validation): remember it so the
  // error response's onSend saves nothing.
  app.addHook("onError", async (request) => {
    erroredRequests.add(request);
  });

  // onSend runs after the payload is serialised and before the status line
  // and headers are written: the last moment the commit can still change them.
  app.addHook("onSend", async (request, reply, payload) => {
    const session = sessions.get(request);
    if (session === undefined || erroredRequests.has(request) || failedRequests.has(request)) {
      return payload;
    }
    sessions.delete(request);
    try {
      applyReplyHeaders(reply, (await session.commit()).headers);
      return payload;
    } catch (error) {
      failedRequests.add(request);
      onError(error, request);
      discard(payload);
      return bareError(reply, error);
    }
  });
}

/**
 * Fastify 5 plugin: loads a session in `onRequest` into `request.session` (or
 * `request[decorator]`), and commits it in `onSend`, before any byte of the
 * response is written. Register it once per session manager.
 *
 * @example
 * ```ts
 * const app = Fastify();
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
