import {
  createSessionManager,
  isSessionError,
  type Session,
  type SessionManager,
  type SessionStore,
} from "@sessionkit/core";
import { expect } from "vitest";

/** The scenario app's contract: its data, its two managers, the gates of `POST /slow-set`, and a cookie-keeping client. */

/** Data of the main session in the scenario app. */
export interface ScenarioData {
  user?: string;
  cart?: string[];
  poisoned?: boolean;
  [key: string]: unknown;
}

/** Data of the second, independently named session. */
export interface PrefsData {
  theme?: string;
}

/** One gate of {@link Gates}, as the test sees it. */
export interface Gate {
  /** Resolves when a request has reached the gate (its session is loaded and changed). */
  readonly arrived: Promise<void>;
  /** Lets the waiting request go on. */
  release(): void;
}

/**
 * Test-controlled gates: a route waits at a named gate until the test releases
 * it, so a test can run another request while the first one is in flight,
 * without timing assumptions.
 */
export class Gates {
  readonly #gates = new Map<string, { arrive(): void; released: Promise<void> }>();

  /** Test side: creates the gate `name`. */
  create(name: string): Gate {
    let arrive = (): void => {};
    let release = (): void => {};
    const arrived = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#gates.set(name, { arrive, released });
    return { arrived, release };
  }

  /** App side: reports arrival at the gate `name` and waits for its release. An unknown name passes at once. */
  async pass(name: string): Promise<void> {
    const gate = this.#gates.get(name);
    if (gate === undefined) return;
    this.#gates.delete(name);
    gate.arrive();
    await gate.released;
  }
}

/** What an adapter's app receives: two managers with different cookie names. */
export interface AppContext {
  /** Main session, cookie `__Host-sid`. */
  readonly sessions: SessionManager<ScenarioData>;
  /** Second session, cookie `__Host-prefs`. */
  readonly prefs: SessionManager<PrefsData>;
  /** The gates `POST /slow-set` waits at. */
  readonly gates: Gates;
  /** Pass as the `onError` option of every session middleware: it records the error in {@link AppContext.errors}. */
  readonly onError: (error: unknown) => void;
  /** The session failures the adapter reported through `onError`, oldest first. */
  readonly errors: unknown[];
}

/** Query of `POST /slow-set`. */
export interface SlowSetQuery {
  readonly key: string;
  readonly value: string;
  readonly gate: string;
  /** `"handler"`: the handler commits itself, then commits again and tries another `set()`. */
  readonly commit?: string | undefined;
}

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

/** A started app. */
export interface RunningApp {
  /** Base URL, such as `http://127.0.0.1:40123`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the scenario app with a framework, listening on 127.0.0.1 on a free port. */
export type StartApp = (context: AppContext) => Promise<RunningApp>;

/** The secret of the scenario managers. */
export const SCENARIO_SECRET = "adapter-scenarios-secret-0123456789-abcdefghij";

/** Builds the two managers of the scenario app on a store. */
export function createContext(store: SessionStore): AppContext {
  const errors: unknown[] = [];
  return {
    gates: new Gates(),
    errors,
    onError: (error) => {
      errors.push(error);
    },
    sessions: createSessionManager<ScenarioData>({ store, secrets: [SCENARIO_SECRET] }),
    prefs: createSessionManager<PrefsData>({
      store,
      secrets: [SCENARIO_SECRET],
      cookie: { name: "__Host-prefs" },
    }),
  };
}

/** A tiny browser: keeps the cookies an app sets, sends them back. */
export class Client {
  readonly cookies = new Map<string, string>();
  last: Response | undefined;

  constructor(readonly baseUrl: string) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  async request(method: "GET" | "POST", path: string, cookieHeader?: string): Promise<Response> {
    const header = cookieHeader ?? this.cookieHeader;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: header === "" ? {} : { cookie: header },
    });
    for (const setCookie of response.headers.getSetCookie()) {
      const pair = setCookie.slice(
        0,
        setCookie.indexOf(";") === -1 ? undefined : setCookie.indexOf(";"),
      );
      const name = pair.slice(0, pair.indexOf("="));
      const value = pair.slice(pair.indexOf("=") + 1);
      if (/;\s*Max-Age=0/i.test(setCookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    this.last = response;
    return response;
  }

  async json<T = Record<string, unknown>>(method: "GET" | "POST", path: string): Promise<T> {
    const response = await this.request(method, path);
    expect(response.status, `${method} ${path}`).toBe(200);
    return (await response.json()) as T;
  }
}
