import type { IncomingMessage, ServerResponse } from "node:http";
import {
  errorStatus,
  holdResponseUntil,
  type ResponseHeader,
  type Session,
  type SessionData,
  type SessionManager,
} from "@sessionkit/core";

/**
 * Register your session types here to type `req.session` (the default
 * property). Declaration merging, done once in your app:
 *
 * @example
 * ```ts
 * declare module "@sessionkit/express" {
 *   interface SessionRegister {
 *     session: Session<{ userId: string; cart: string[] }>;
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by users through declaration merging
export interface SessionRegister {}

/** The type of `req.session`: what {@link SessionRegister} declares, else `Session` of untyped data. */
export type RegisteredSession = SessionRegister extends { readonly session: infer S }
  ? S
  : Session<SessionData, SessionData>;

declare global {
  // Express declares its request type in this global namespace for augmentation.
  namespace Express {
    interface Request {
      /**
       * The request's session, set by `session(manager)` from
       * `@sessionkit/express`. Typed through `SessionRegister`.
       */
      session: RegisteredSession;
    }
  }
}

/** Options of {@link session}. */
export interface SessionMiddlewareOptions<Property extends string = "session"> {
  /**
   * The request property the session is put on. Give every manager after the
   * first its own property (`"prefs"` → `req.prefs`).
   * @default "session"
   */
  readonly property?: Property;
  /**
   * Called once with each error from loading or committing this session (the
   * client gets a bare 503/500/409, never the error). Errors of your handlers
   * go to Express's error handlers as usual, not here.
   * @default console.error
   */
  readonly onError?: (error: unknown, req: IncomingMessage) => void;
}

/** The `next` callback of an Express (or Connect) middleware. */
export type NextCallback = (error?: unknown) => void;

/**
 * An Express middleware that loads one manager's session, plus a typed
 * accessor for it.
 */
export interface SessionMiddleware<
  Data extends object = SessionData,
  Flash extends object = SessionData,
  Property extends string = "session",
> {
  (req: IncomingMessage, res: ServerResponse, next: NextCallback): void;
  /** The request property the session is put on. */
  readonly property: Property;
  /**
   * The session this middleware loaded for `req`, typed, whatever its
   * property. Throws a `TypeError` when the middleware did not run for `req`.
   */
  from(req: IncomingMessage): Session<Data, Flash>;
}

/** Sessions of one response, committed together by one hold. */
interface PendingCommit {
  readonly entries: { readonly session: Session<object, object>; readonly onError: OnError }[];
  started: boolean;
}
type OnError = (error: unknown) => void;

// One hold per response for all managers: commits run in the order the
// middlewares ran, and the first failure stops the rest, so a failed response
// never carries another session's Set-Cookie.
const pendingByResponse = new WeakMap<ServerResponse, PendingCommit>();

const PROPERTY_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const FORBIDDEN_PROPERTIES = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Express 4 and 5 middleware: loads the request's session with
 * `manager.load(req)`, puts it on `req.session` (or `req[options.property]`),
 * and commits it before the first byte of the response is sent. Install one per
 * manager; all of a request's sessions are committed before the response goes
 * out, in the order the middlewares ran.
 *
 * A response with a 5xx status (a handler that threw or called `next(err)`
 * and was answered by an error handler, or Express's default one) commits
 * nothing (A25). A failed load or commit answers a bare 503/500 with no
 * session cookie and no details (A24, A39).
 *
 * @example
 * ```ts
 * const app = express();
 * app.use(session(sessions));
 * app.post("/cart", (req, res) => {
 *   req.session.set("cart", [...(req.session.get("cart") ?? []), "apple"]);
 *   res.json({ items: req.session.get("cart")?.length });
 * });
 * ```
 */
export function session<
  Data extends object,
  Flash extends object,
  Property extends string = "session",
>(
  manager: SessionManager<Data, Flash>,
  options: SessionMiddlewareOptions<Property> = {},
): SessionMiddleware<Data, Flash, Property> {
  if (manager === null || typeof manager !== "object" || typeof manager.load !== "function") {
    throw new TypeError("session(manager): pass a SessionManager from createSessionManager()");
  }
  const property = (options.property ?? "session") as Property;
  if (!PROPERTY_NAME.test(property) || FORBIDDEN_PROPERTIES.has(property)) {
    throw new TypeError(
      `session(manager, { property }): ${JSON.stringify(property)} is not a usable property name`,
    );
  }
  const report =
    options.onError ??
    ((error: unknown) => {
      console.error(error);
    });
  const loaded = new WeakMap<IncomingMessage, Session<Data, Flash>>();

  const middleware = (req: IncomingMessage, res: ServerResponse, next: NextCallback): void => {
    const onError: OnError = (error) => report(error, req);
    manager.load(req).then(
      (loadedSession) => {
        const slot = req as unknown as Record<string, unknown>;
        const existing = slot[property];
        if (existing !== undefined && existing !== loadedSession) {
          // Two managers on one property would silently shadow each other.
          sendBare(
            res,
            new TypeError(
              `req.${property} is already set: give each session middleware its own property`,
            ),
            onError,
          );
          return;
        }
        loaded.set(req, loadedSession);
        slot[property] = loadedSession;
        holdForCommit(res, loadedSession as Session<object, object>, onError);
        next();
      },
      (error: unknown) => sendBare(res, error, onError),
    );
  };
  return Object.assign(middleware, {
    property,
    from(req: IncomingMessage): Session<Data, Flash> {
      const found = loaded.get(req);
      if (found === undefined) {
        throw new TypeError(
          `the session middleware for req.${property} did not run for this request`,
        );
      }
      return found;
    },
  });
}

/** Answers a bare 503/500: no stack, no details, no session cookie (A39). */
function sendBare(res: ServerResponse, error: unknown, onError: OnError): void {
  onError(error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, body } = errorStatus(error);
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.end(body);
}

function holdForCommit(
  res: ServerResponse,
  session: Session<object, object>,
  onError: OnError,
): void {
  const current = pendingByResponse.get(res);
  if (current !== undefined && !current.started) {
    // The same manager installed twice loads the same session: commit it once.
    if (!current.entries.some((entry) => entry.session === session)) {
      current.entries.push({ session, onError });
    }
    return;
  }
  // A middleware reached after the response started (rare) gets its own hold.
  const pending: PendingCommit = { entries: [{ session, onError }], started: false };
  pendingByResponse.set(res, pending);
  holdResponseUntil(res, async () => {
    pending.started = true;
    // Express answers thrown errors and next(err) through an error handler, which
    // sets a 5xx status: a failed request saves nothing (A25).
    if (res.statusCode >= 500) return [];
    const headers: ResponseHeader[] = [];
    for (const entry of pending.entries) {
      try {
        headers.push(...(await entry.session.commit()).headers);
      } catch (error) {
        entry.onError(error);
        throw error;
      }
    }
    return headers;
  });
  keepStatusVisible(res);
}

/**
 * `res.writeHead(500)` is held before it reaches `res.statusCode`: record the
 * status first so the 5xx rule sees it.
 */
function keepStatusVisible(res: ServerResponse): void {
  const held = res.writeHead;
  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    if (typeof args[0] === "number") res.statusCode = args[0];
    return (held as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse["writeHead"];
}
