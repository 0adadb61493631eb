// What every scenario group works with: one store, one running app on it, and
// the browser-side helpers the scenarios share (log in, race a slow write,
// expect a bare conflict). One harness per adapter × store.
import { uniqueName } from "@sessionkit/conformance";
import type { SessionRecord, SessionStore } from "@sessionkit/core";
import { storeKeyOf } from "@sessionkit/core/store";
import { expect } from "vitest";
import { type AppContext, createContext, type RunningApp, type StartApp } from "./app.js";
import { Client } from "./client.js";
import { outcomeOf } from "./routes.js";
import type { StoreCase } from "./stores.js";

/** Options of `describeAdapterScenarios`. */
export interface AdapterScenarioOptions {
  /** Run only the store cases of these names (`"memory"`, `"redis"`, …). @default every case */
  readonly stores?: readonly string[] | undefined;
  /**
   * The status the app answers when a handler throws a 4xx HTTP error:
   * `"as-thrown"` for an app whose framework renders an HTTP error's status
   * (Express, Fastify, Hono, Koa, a Fetch runtime), `500` for core's
   * `createNodeHandler`, which has no error handler and answers every throw
   * with a bare 500.
   * @default "as-thrown"
   */
  readonly thrownClientErrors?: "as-thrown" | 500 | undefined;
}

/** `{ isNew, userId, data }` of `GET /state`. */
export interface State {
  isNew: boolean;
  userId: string | null;
  data: Record<string, unknown>;
}

/** The main session's cookie as core sets it. */
export const SESSION_COOKIE =
  /^__Host-sid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/;
/** The main session's cookie as core clears it (A17). */
export const CLEARED_COOKIE =
  /^__Host-sid=; Path=\/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax$/;
/** What a client-facing error body must never contain (A39). */
export const STACK_OR_DETAILS =
  /\bat \S+ \(|Error:|\/srv\/|node_modules|127\.0\.0\.1|postgres:\/\//;

/** The Set-Cookie headers of `response` for the cookie `name`. */
export function sessionCookies(response: Response, name = "__Host-sid"): string[] {
  return response.headers.getSetCookie().filter((cookie) => cookie.startsWith(`${name}=`));
}

/** The id inside a session cookie value (`<id>.<signature>`). */
export function idOf(token: string | undefined): string {
  if (token === undefined) throw new Error("no session cookie");
  return token.slice(0, token.indexOf("."));
}

/** The store key of the session a cookie value names. */
export function keyOf(token: string | undefined): string {
  return storeKeyOf(idOf(token));
}

/** The outcomes of the failures an app reported. */
export function codesOf(errors: readonly unknown[]): string[] {
  return errors.map(outcomeOf);
}

/** One adapter's app on one store, started in `beforeAll` by `describeAdapterScenarios`. */
export class ScenarioHarness {
  #store: SessionStore | undefined;
  #context: AppContext | undefined;
  #app: RunningApp | undefined;

  constructor(
    readonly storeCase: StoreCase,
    readonly startApp: StartApp,
    readonly options: AdapterScenarioOptions,
  ) {}

  /** Creates the store and starts the app on it. */
  async start(): Promise<void> {
    this.#store = await this.storeCase.create();
    this.#context = createContext(this.#store);
    this.#app = await this.startApp(this.#context);
  }

  /** Stops the app and disposes of the store. */
  async stop(): Promise<void> {
    await this.#app?.close();
    if (this.#store !== undefined) await this.storeCase.dispose(this.#store);
  }

  get store(): SessionStore {
    if (this.#store === undefined) throw new Error("the scenario store is not created yet");
    return this.#store;
  }

  get context(): AppContext {
    if (this.#context === undefined) throw new Error("the scenario app is not started yet");
    return this.#context;
  }

  get app(): RunningApp {
    if (this.#app === undefined) throw new Error("the scenario app is not started yet");
    return this.#app;
  }

  /** A fresh browser on the app. */
  client(): Client {
    return new Client(this.app.url);
  }

  /** Logs a fresh client in as `user` and returns it. */
  async loggedIn(user: string): Promise<Client> {
    const browser = this.client();
    await browser.json("POST", `/login?user=${encodeURIComponent(user)}`);
    return browser;
  }

  /** A validly signed cookie value naming no live session: logged in, then out. */
  async loggedOutToken(): Promise<string> {
    const browser = await this.loggedIn(uniqueName("gone"));
    const token = browser.cookies.get("__Host-sid") ?? "";
    await browser.json("POST", "/logout");
    return token;
  }

  /** The stored record of the session a cookie value names (null when there is none). */
  recordOf(token: string | undefined): Promise<SessionRecord | null> {
    return this.store.get(keyOf(token));
  }

  /**
   * How many records the store holds. A store without `count()` cannot show
   * that nothing was written: the test is skipped with that reason.
   */
  async recordCount(skip: (note: string) => never): Promise<number> {
    const count = await this.store.count?.();
    if (count === undefined) skip(`the ${this.store.name} store has no count()`);
    return count;
  }

  /** Replaces the stored record of `token`'s session with `change(record)`, conditionally. */
  async rewrite(
    token: string | undefined,
    change: (record: SessionRecord) => Partial<SessionRecord>,
  ): Promise<void> {
    const record = await this.recordOf(token);
    if (record === null) throw new Error("no stored record to rewrite");
    const written = await this.store.set(
      keyOf(token),
      { ...record, ...change(record), version: record.version + 1 },
      { ifVersion: record.version },
    );
    expect(written).toBe(true);
  }

  /**
   * Runs `meanwhile` while a `POST /slow-set` of `browser` waits at its gate
   * (its session loaded and changed), then lets it finish.
   */
  async raceSlowSet(
    browser: Client,
    query: string,
    meanwhile: () => Promise<void>,
  ): Promise<Response> {
    const name = uniqueName("gate");
    const gate = this.context.gates.create(name);
    const response = browser.request("POST", `/slow-set?${query}&gate=${name}`);
    // Until the handler waits at the gate (or the request already ended).
    await Promise.race([gate.arrived, response]);
    this.context.errors.length = 0;
    try {
      await meanwhile();
    } finally {
      gate.release();
    }
    return response;
  }

  /** The answer to a write whose session ended meanwhile: a bare 409, no cookie, one CONFLICT reported. */
  async expectBareConflict(late: Response): Promise<void> {
    expect(late.status).toBe(409);
    expect(late.headers.getSetCookie()).toEqual([]);
    expect(late.headers.get("content-type")).toMatch(/^text\/plain/);
    const body = await late.text();
    expect(body).not.toMatch(STACK_OR_DETAILS);
    expect(body).not.toContain("resurrected");
    expect(codesOf(this.context.errors)).toEqual(["CONFLICT"]);
  }

  /** A request with a dead session's cookie is served anonymous, with no Set-Cookie. */
  async expectAnonymousReplay(token: string | undefined): Promise<void> {
    const replay = await this.client().request("GET", "/state", `__Host-sid=${token}`);
    expect(await replay.json()).toMatchObject({ isNew: true, userId: null, data: {} });
    expect(replay.headers.getSetCookie()).toEqual([]);
  }

  /** Logs `token`'s session out from another client. */
  async logOut(token: string | undefined): Promise<void> {
    const logout = await this.client().request("POST", "/logout", `__Host-sid=${token}`);
    expect(logout.status).toBe(200);
  }
}
