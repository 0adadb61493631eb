import type { IncomingMessage, ServerResponse } from "node:http";
import type { ResponseHeader, Session, SessionData, SessionManager } from "@sessionkit/core";
import {
  assertManager,
  commitForResponse,
  type FailureReport,
  failureReporter,
  logFailure,
  objectSlot,
  resolveAdapterOptions,
  SessionHttpError,
  slotState,
} from "@sessionkit/core/adapter";
import { holdResponseUntil, loopTurn, resumeInTurn } from "@sessionkit/core/node";
import { failures, sessionErrorsInstalled } from "./session-errors.js";

const ADAPTER = "@sessionkit/express";

/**
 * Register your session types here to type `req.session` (the default
 * slot). Declaration merging, done once in your app:
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
export interface SessionAdapterOptions<Name extends string = "session"> {
  /**
   * The request property the session is put on (`req[sessionName]`): an
   * identifier other than `__proto__`, `constructor` and `prototype`. Give
   * every manager after the first its own (`"prefs"` → `req.prefs`).
   * @default "session"
   */
  readonly sessionName?: Name;
  /**
   * Called once with each failure to load or commit this session, with the
   * original error. Without it, a failed load goes to Express's error
   * handling only (`next(err)`: your error handler, or Express's final
   * handler, which logs it), and a failed commit, which happens after your
   * handler answered, is logged with `console.error`: Express has no logger
   * of its own. Errors of your handlers never come here.
   * @default undefined (see above)
   */
  readonly onError?: (error: unknown, req: IncomingMessage) => void;
}

/**
 * An Express middleware that loads one manager's session, plus a typed
 * accessor for it.
 */
export interface SessionMiddleware<
  Data extends object = SessionData,
  Flash extends object = SessionData,
  Name extends string = "session",
> {
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /** The request property the session is put on. */
  readonly sessionName: Name;
  /**
   * The session this middleware loaded for `req`, typed, whatever its
   * `sessionName`. Throws a `TypeError` when the middleware did not run for `req`.
   */
  from(req: IncomingMessage): Session<Data, Flash>;
}

/** The sessions of one response, committed together by one hold. */
interface PendingCommit {
  readonly req: IncomingMessage;
  readonly entries: { readonly session: Session<object, object>; readonly report: Report }[];
  started: boolean;
}
type Report = FailureReport<IncomingMessage>;

// One hold per response for all managers: commits run in the order the
// middlewares ran, and the first failure stops the rest, so a failed response
// never carries another session's Set-Cookie. Kept on the request (one per
// response), next to the manager's and the middleware's slots, which share
// one property there.
const pendingByRequest = objectSlot<PendingCommit>("sessionkit.express.pending");
let warnedWithoutSessionErrors = false;

/**
 * Express 4 and 5 middleware: loads the request's session with
 * `manager.load(req)`, puts it on `req.session` (or `req[sessionName]`), and
 * commits it before the first byte of the response is sent. Install one per
 * manager, and `sessionErrors()` once after your routes.
 *
 * Changes are committed unless the handler threw: an answer with any status
 * (a 4xx, a 503 after `session.destroy()`) commits; a thrown error or
 * `next(err)`, seen by `sessionErrors()`, saves nothing; `session.discard()`
 * drops changes explicitly. A failed load reaches your error handlers through
 * `next(err)` as a {@link SessionHttpError} (status 503/500/409, `expose:
 * false`, the original error as `cause`); a failed commit turns the held
 * response into a bare 503/500/409 with no session cookie and no details.
 *
 * @example
 * ```ts
 * const app = express();
 * app.use(session(sessions));
 * app.post("/cart", (req, res) => {
 *   req.session.set("cart", [...(req.session.get("cart") ?? []), "apple"]);
 *   res.json({ items: req.session.get("cart")?.length });
 * });
 * app.use(sessionErrors());
 * ```
 */
export function session<Data extends object, Flash extends object, Name extends string = "session">(
  manager: SessionManager<Data, Flash>,
  options?: SessionAdapterOptions<Name>,
): SessionMiddleware<Data, Flash, Name> {
  assertManager(manager, ADAPTER);
  const { sessionName, onError } = resolveAdapterOptions(ADAPTER, options);
  const report = failureReporter(onError, logFailure);
  const loaded = objectSlot<Session<Data, Flash>>("sessionkit.express.session");

  const middleware = (
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void => {
    const arrived = loopTurn();
    // A failed load goes to the app's error handlers, as express-session's does.
    const raise = (error: unknown): void => {
      failures.markFailed(req);
      let failure: unknown = new SessionHttpError(error);
      try {
        report(error, req, true);
      } catch (thrown) {
        failure = thrown; // the app's onError threw: Express's error handling gets that
      }
      next(failure);
    };
    const onLoaded = (loadedSession: Session<Data, Flash>): void => {
      try {
        const slot = req as unknown as Record<string, unknown>;
        // "same": one manager installed twice; holdForCommit commits it once.
        const state = slotState(slot[sessionName], loadedSession, ADAPTER, `req.${sessionName}`);
        if (state instanceof TypeError) throw state;
        loaded.set(req, loadedSession);
        // Throws for a read-only property of the request: reported, never unhandled.
        slot[sessionName] = loadedSession;
        holdForCommit(req, res, loadedSession as Session<object, object>, report);
      } catch (error) {
        raise(error);
        return;
      }
      next();
    };
    // Under load, a load that needed no I/O continues on this turn's check
    // phase, with the turn's other requests (resumeInTurn).
    manager
      .load(req)
      .then((loadedSession) => resumeInTurn(arrived, onLoaded, loadedSession), raise);
  };
  return Object.assign(middleware, {
    sessionName,
    from(req: IncomingMessage): Session<Data, Flash> {
      const found = loaded.get(req);
      if (found === undefined) {
        throw new TypeError(
          `${ADAPTER}: the session middleware for req.${sessionName} did not run for this request`,
        );
      }
      return found;
    },
  });
}

function holdForCommit(
  req: IncomingMessage,
  res: ServerResponse,
  session: Session<object, object>,
  report: Report,
): void {
  const current = pendingByRequest.get(req);
  if (current !== undefined && !current.started) {
    // The same manager installed twice loads the same session: commit it once.
    if (!current.entries.some((entry) => entry.session === session)) {
      current.entries.push({ session, report });
    }
    return;
  }
  // A middleware reached after the response started (rare) gets its own hold.
  const pending: PendingCommit = { req, entries: [{ session, report }], started: false };
  pendingByRequest.set(req, pending);
  holdResponseUntil(res, () => commitAll(pending, res));
}

/** What a response that commits nothing adds: no header, at once. */
const NO_HEADERS: readonly ResponseHeader[] = Object.freeze([]);

/** The headers the response needs: at once when no commit has anything to write (see `BeforeSend`). */
type Committed = readonly ResponseHeader[] | Promise<readonly ResponseHeader[]>;

function commitAll(pending: PendingCommit, res: ServerResponse): Committed {
  pending.started = true;
  const { req, entries } = pending;
  if (!failures.shouldCommit(req)) return NO_HEADERS;
  if (res.statusCode >= 500 && !sessionErrorsInstalled()) {
    // Without sessionErrors() a thrown error looks like any 5xx answer: the
    // safe reading is that the handler failed, so nothing is saved.
    if (!warnedWithoutSessionErrors) {
      warnedWithoutSessionErrors = true;
      entries[0]?.report(
        new Error(
          `${ADAPTER}: a ${res.statusCode} response went out and sessionErrors() is not installed, so its session changes were not saved (without it a thrown error cannot be told from an error status the handler answered). Add app.use(sessionErrors()) after your routes, before your error handlers.`,
        ),
        req,
        false,
      );
    }
    return NO_HEADERS;
  }
  const [only] = entries;
  return entries.length === 1 && only !== undefined
    ? commitOne(req, only)
    : commitInOrder(req, entries);
}

/** Commits one session; a failure is reported, stops the rest, and fails the response. */
function commitOne(
  req: IncomingMessage,
  { session, report }: PendingCommit["entries"][number],
): Committed {
  const headers = commitForResponse(session);
  // Nothing to write: the response goes out at once.
  if (!(headers instanceof Promise)) return headers;
  return headers.then(undefined, (error: unknown) => {
    // The hold answers a bare 503/500/409 instead of the held response.
    failures.markFailed(req);
    report(error, req, false);
    throw error;
  });
}

/** Several managers on one request: committed in the order their middlewares ran. */
async function commitInOrder(
  req: IncomingMessage,
  entries: PendingCommit["entries"],
): Promise<readonly ResponseHeader[]> {
  const headers: ResponseHeader[] = [];
  for (const entry of entries) headers.push(...(await commitOne(req, entry)));
  return headers;
}
