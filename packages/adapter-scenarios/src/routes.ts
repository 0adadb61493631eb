// The bodies of the scenario routes that every app shares: each app calls them
// from its framework's route and answers (or throws) what they return, so the
// only framework-specific code left in an app is how it reads the query, sends
// JSON, sets a status and throws an HTTP error.
import { isSessionError, type Session } from "@sessionkit/core";
import type { Gates, ScenarioData } from "./app.js";

/** Query of `POST /slow-set`. */
export interface SlowSetQuery {
  readonly key: string;
  readonly value: string;
  readonly gate: string;
  /** `"handler"`: the handler commits itself, then commits again and tries another `set()`. */
  readonly commit?: string | undefined;
}

/** An error's `SessionError` code, or its text: what the scenarios compare. */
export function outcomeOf(error: unknown): string {
  return isSessionError(error) ? error.code : String(error);
}

/**
 * The `POST /slow-set` route, shared by every scenario app: sets `key`, waits at
 * the gate, and with `commit: "handler"` commits in the handler, commits again,
 * then tries `set("after", …)`, answering what each did (`{ commit, again,
 * setAfter }`: the commit outcome, `"ok"`, or the error code). The adapter
 * commits afterwards as usual.
 */
export async function slowSet(
  session: Session<ScenarioData>,
  gates: Gates,
  query: SlowSetQuery,
): Promise<Record<string, unknown>> {
  session.set(query.key, query.value);
  await gates.pass(query.gate);
  if (query.commit !== "handler") return { ok: true };
  const commitOutcome = async (): Promise<string> => {
    try {
      return (await session.commit()).outcome;
    } catch (error) {
      return outcomeOf(error);
    }
  };
  const commit = await commitOutcome();
  const again = await commitOutcome();
  let setAfter = "ok";
  try {
    session.set("after", query.value);
  } catch (error) {
    setAfter = outcomeOf(error);
  }
  return { commit, again, setAfter };
}

/** The client-error statuses `POST /throw-status` throws. */
export type ClientErrorStatus = 400 | 404;

/** Query of `POST /throw-status`. */
export interface ThrowStatusQuery {
  /** `"400"` or `"404"`. */
  readonly status: string;
  /** The gate the handler reports at, so a scenario can tell the route ran (and a 404 is not "no such route"). */
  readonly gate: string;
}

/**
 * The shared part of `POST /throw-status`: sets `poisoned`, reports at the
 * gate (the scenario releases it beforehand, so nothing waits), and returns
 * the status the app must then throw in its framework's own way (see
 * {@link httpError}). Any other status is a bug of the scenario: it throws a
 * plain `Error`, which the app answers 500.
 */
export async function prepareThrow(
  session: Session<ScenarioData>,
  gates: Gates,
  query: ThrowStatusQuery,
): Promise<ClientErrorStatus> {
  const status = Number(query.status);
  if (status !== 400 && status !== 404) {
    throw new Error(`POST /throw-status: status must be 400 or 404 (got ${query.status})`);
  }
  session.set("poisoned", true);
  await gates.pass(query.gate);
  return status;
}

/** An HTTP error as `http-errors` shapes it. */
export interface HttpError extends Error {
  readonly status: number;
  readonly statusCode: number;
  /** Whether the message may be shown to the client (true for 4xx, as in `http-errors`). */
  readonly expose: boolean;
}

const CLIENT_ERROR_TEXT = { 400: "Bad Request", 404: "Not Found" } as const;

/**
 * An error in the shape `http-errors` makes (`status`, `statusCode`,
 * `expose`), which Express's final handler, Fastify's error handler and Koa's
 * `ctx.onerror` all answer with its status. Koa apps may use `ctx.throw(status)`
 * and Hono apps `throw new HTTPException(status)` instead.
 */
export function httpError(status: ClientErrorStatus): HttpError {
  return Object.assign(new Error(CLIENT_ERROR_TEXT[status]), {
    status,
    statusCode: status,
    expose: true,
  });
}

/** The body `POST /logout-unavailable` answers with status 503. */
export const UNAVAILABLE_BODY: { readonly error: "unavailable" } = { error: "unavailable" };

/**
 * The shared part of `POST /logout-unavailable`: destroys the session and
 * returns what the app must answer itself, without throwing: status 503 with
 * {@link UNAVAILABLE_BODY} as JSON (a logout the app answers with an error
 * status still logs out).
 */
export function destroyThenUnavailable(session: Session<ScenarioData>): {
  readonly status: 503;
  readonly body: typeof UNAVAILABLE_BODY;
} {
  session.destroy();
  return { status: 503, body: UNAVAILABLE_BODY };
}

/** Query of `POST /discard`. */
export interface DiscardQuery {
  readonly key: string;
  readonly value: string;
}

/**
 * The `POST /discard` route: sets `key`, then drops every change of the
 * request with `session.discard()`, and returns `{ ok: true }` for a 200.
 */
export function discardChanges(
  session: Session<ScenarioData>,
  query: DiscardQuery,
): { readonly ok: true } {
  session.set(query.key, query.value).discard();
  return { ok: true };
}
