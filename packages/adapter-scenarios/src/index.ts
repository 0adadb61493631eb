/**
 * The HTTP scenarios every sessionkit framework adapter must pass, run over
 * real sockets against every store. An adapter's test file calls
 * {@link describeAdapterScenarios} with a function that starts an app
 * implementing the routes below with that framework.
 *
 * Routes (all answer JSON; query parameters carry the input):
 * - `GET /state` → `{ isNew, userId, data }` of the main session (`data` = `session.toJSON()`)
 * - `POST /login?user=U` → `session.regenerate().setUser(U).set("user", U)`; also sets a
 *   cookie of the app's own, `theme=dark; Path=/`, through the framework's cookie API → `{ ok: true }`
 * - `POST /cart?item=I` → appends I to `cart` → `{ cart }`
 * - `POST /set?key=K&value=V` → `session.set(K, V)` → `{ ok: true }`
 * - `POST /logout` → `session.destroy()` → `{ ok: true }`
 * - `POST /logout-others` → `{ destroyed: await session.destroyOtherSessions() }`
 * - `POST /throw` → `session.set("poisoned", true)`, then throws an Error; the app answers 500
 * - `GET /prefs` → `{ theme }` from the second manager's session (`prefs`)
 * - `POST /prefs?theme=T` → `prefs.set("theme", T)` → `{ ok: true }`
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getPostgresUrl, getRedisUrl, uniqueName } from "@sessionkit/conformance";
import { createSessionManager, type SessionManager, type SessionStore } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { createPostgresStore } from "@sessionkit/store-postgres";
import { createRedisStore } from "@sessionkit/store-redis";
import { createSqliteStore } from "@sessionkit/store-sqlite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

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

/** What an adapter's app receives: two managers with different cookie names. */
export interface AppContext {
  /** Main session, cookie `__Host-sid`. */
  readonly sessions: SessionManager<ScenarioData>;
  /** Second session, cookie `__Host-prefs`. */
  readonly prefs: SessionManager<PrefsData>;
}

/** A started app. */
export interface RunningApp {
  /** Base URL, such as `http://127.0.0.1:40123`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the scenario app with a framework, listening on 127.0.0.1 on a free port. */
export type StartApp = (context: AppContext) => Promise<RunningApp>;

/** A store the scenarios run against. */
export interface StoreCase {
  readonly name: string;
  create(): Promise<SessionStore>;
  /** A store of the same kind whose server is down; absent where a store cannot be down. */
  createDown?(): Promise<SessionStore>;
  dispose(store: SessionStore): Promise<void>;
}

/** The secret of the scenario managers. */
export const SCENARIO_SECRET = "adapter-scenarios-secret-0123456789-abcdefghij";

/** Memory, SQLite, Redis and PostgreSQL, each isolated per call. */
export function storeCases(): StoreCase[] {
  const sqliteDirs = new Map<SessionStore, string>();
  const pgSchemas = new Map<SessionStore, string>();
  return [
    {
      name: "memory",
      create: async () => createMemoryStore({ sweepIntervalMs: false }),
      dispose: async (store) => store.close?.(),
    },
    {
      name: "sqlite",
      async create() {
        const dir = mkdtempSync(join(tmpdir(), "sk_scenarios_"));
        const store = createSqliteStore({ path: join(dir, "sessions.db"), gcIntervalMs: false });
        sqliteDirs.set(store, dir);
        return store;
      },
      async createDown() {
        // A closed database: every operation fails with STORE_UNAVAILABLE.
        const store = createSqliteStore({ path: ":memory:", gcIntervalMs: false });
        await store.close();
        return store;
      },
      async dispose(store) {
        await store.close?.().catch(() => {});
        const dir = sqliteDirs.get(store);
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      },
    },
    {
      name: "redis",
      create: async () =>
        createRedisStore({ url: await getRedisUrl(), prefix: `${uniqueName("scn")}:` }),
      // Nothing listens on port 1: connections are refused at once.
      createDown: async () =>
        createRedisStore({ url: "redis://127.0.0.1:1", commandTimeoutMs: 500 }),
      async dispose(store) {
        await store.clear?.().catch(() => {});
        await store.close?.();
      },
    },
    {
      name: "postgres",
      async create() {
        const schema = uniqueName("scn");
        const store = createPostgresStore({
          connectionString: await getPostgresUrl(),
          schema,
          createTableIfMissing: true,
          gcIntervalMs: false,
        });
        pgSchemas.set(store, schema);
        return store;
      },
      createDown: async () =>
        createPostgresStore({
          connectionString: "postgres://postgres@127.0.0.1:1/test",
          connectTimeoutMs: 500,
          gcIntervalMs: false,
        }),
      async dispose(store) {
        await store.close?.();
        const schema = pgSchemas.get(store);
        if (schema === undefined) return;
        const admin = new pg.Client({ connectionString: await getPostgresUrl() });
        await admin.connect();
        try {
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await admin.end();
        }
      },
    },
  ];
}

/** Builds the two managers of the scenario app on a store. */
export function createContext(store: SessionStore): AppContext {
  return {
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

interface State {
  isNew: boolean;
  userId: string | null;
  data: ScenarioData;
}

function sessionCookies(response: Response, name = "__Host-sid"): string[] {
  return response.headers.getSetCookie().filter((cookie) => cookie.startsWith(`${name}=`));
}

/**
 * Registers the scenarios for one adapter: for each store, a fresh app, then
 * every scenario over real HTTP.
 */
export function describeAdapterScenarios(
  adapter: string,
  startApp: StartApp,
  options: { readonly stores?: readonly string[] } = {},
): void {
  const cases = storeCases().filter(
    (c) => options.stores === undefined || options.stores.includes(c.name),
  );
  for (const storeCase of cases) {
    describe(`${adapter} on ${storeCase.name}`, () => {
      let store: SessionStore;
      let app: RunningApp;
      beforeAll(async () => {
        store = await storeCase.create();
        app = await startApp(createContext(store));
      });
      afterAll(async () => {
        await app?.close();
        if (store !== undefined) await storeCase.dispose(store);
      });
      const client = () => new Client(app.url);

      it("the first visit sets no cookie until data is stored (A15)", async () => {
        const browser = client();
        const response = await browser.request("GET", "/state");
        expect(response.status).toBe(200);
        expect(((await response.json()) as State).isNew).toBe(true);
        expect(response.headers.getSetCookie()).toEqual([]);
        const added = await browser.request("POST", "/cart?item=apple");
        expect(added.status).toBe(200);
        const [cookie] = sessionCookies(added);
        expect(cookie).toMatch(
          /^__Host-sid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
        );
        expect(added.headers.get("cache-control")).toBe("no-store");
        expect(added.headers.get("vary")?.toLowerCase()).toContain("cookie");
      });

      it("a cart update persists across requests", async () => {
        const browser = client();
        await browser.json("POST", "/cart?item=apple");
        await browser.json("POST", "/cart?item=pear");
        const state = await browser.json<State>("GET", "/state");
        expect(state.data.cart).toEqual(["apple", "pear"]);
        expect(browser.last?.headers.get("vary")?.toLowerCase()).toContain("cookie");
        expect(sessionCookies(browser.last as Response)).toEqual([]);
      });

      it("login regenerates the id, keeps other Set-Cookie headers, and the old cookie stops working (A16, A10)", async () => {
        const browser = client();
        await browser.json("POST", "/cart?item=apple");
        const before = browser.cookieHeader;
        const login = await browser.request("POST", "/login?user=alice");
        expect(login.status).toBe(200);
        expect(sessionCookies(login)).toHaveLength(1);
        expect(login.headers.getSetCookie().some((c) => c.startsWith("theme=dark"))).toBe(true);
        expect(browser.cookieHeader).not.toBe(before);
        const state = await browser.json<State>("GET", "/state");
        expect(state).toMatchObject({
          isNew: false,
          userId: "alice",
          data: { user: "alice", cart: ["apple"] },
        });
        const stale = await browser.request("GET", "/state", before);
        expect(((await stale.json()) as State).isNew).toBe(true);
      });

      it("logout clears the cookie and the record (A17)", async () => {
        const browser = client();
        await browser.json("POST", "/login?user=bob");
        const loggedIn = browser.cookieHeader;
        const logout = await browser.request("POST", "/logout");
        expect(logout.status).toBe(200);
        const [cleared] = sessionCookies(logout);
        expect(cleared).toMatch(
          /^__Host-sid=; Path=\/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax$/,
        );
        expect(logout.headers.get("cache-control")).toBe("no-store");
        const replay = await browser.request("GET", "/state", loggedIn);
        expect(((await replay.json()) as State).isNew).toBe(true);
      });

      it('"log out everywhere else" ends the user\'s other sessions on their next request (A21, A22)', async () => {
        const user = `carol-${uniqueName("u")}`;
        const [laptop, phone, tablet] = [client(), client(), client()];
        const stranger = client();
        for (const device of [laptop, phone, tablet])
          await device.json("POST", `/login?user=${user}`);
        await stranger.json("POST", "/login?user=someone-else");
        expect(await laptop.json("POST", "/logout-others")).toEqual({ destroyed: 2 });
        expect((await phone.json<State>("GET", "/state")).isNew).toBe(true);
        expect((await tablet.json<State>("GET", "/state")).isNew).toBe(true);
        expect((await laptop.json<State>("GET", "/state")).userId).toBe(user);
        expect((await stranger.json<State>("GET", "/state")).userId).toBe("someone-else");
      });

      it("a tampered cookie gets a fresh anonymous session (A12, A14)", async () => {
        const browser = client();
        await browser.json("POST", "/login?user=mallory");
        const value = browser.cookies.get("__Host-sid") ?? "";
        const flipped = `${value.slice(0, 10)}${value[10] === "A" ? "B" : "A"}${value.slice(11)}`;
        const response = await browser.request("GET", "/state", `__Host-sid=${flipped}`);
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ isNew: true, userId: null, data: {} });
      });

      it("concurrent requests on one session changing different keys all persist (A23)", async () => {
        const browser = client();
        await browser.json("POST", "/login?user=dave");
        const responses = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            browser.request("POST", `/set?key=k${i}&value=v${i}`),
          ),
        );
        for (const response of responses) expect(response.status).toBe(200);
        const state = await browser.json<State>("GET", "/state");
        for (let i = 0; i < 10; i++) expect(state.data[`k${i}`]).toBe(`v${i}`);
        expect(state.userId).toBe("dave");
      });

      it("a handler that throws saves nothing (A25)", async () => {
        const browser = client();
        await browser.json("POST", "/cart?item=apple");
        const response = await browser.request("POST", "/throw");
        expect(response.status).toBe(500);
        const state = await browser.json<State>("GET", "/state");
        expect(state.data.poisoned).toBeUndefined();
        expect(state.data.cart).toEqual(["apple"]);
      });

      it("two named sessions work side by side in one request", async () => {
        const browser = client();
        await browser.json("POST", "/cart?item=apple");
        const prefs = await browser.request("POST", "/prefs?theme=dark");
        expect(prefs.status).toBe(200);
        expect(sessionCookies(prefs, "__Host-prefs")).toHaveLength(1);
        expect(sessionCookies(prefs)).toEqual([]);
        expect(await browser.json("GET", "/prefs")).toEqual({ theme: "dark" });
        expect((await browser.json<State>("GET", "/state")).data.cart).toEqual(["apple"]);
      });

      const createDown = storeCase.createDown;
      if (createDown !== undefined) {
        it("a down store gives 503 with no stack trace and no session cookie (A30, A39)", async () => {
          const down = await createDown();
          const downApp = await startApp(createContext(down));
          try {
            const response = await new Client(downApp.url).request("POST", "/cart?item=apple");
            expect(response.status).toBe(503);
            const body = await response.text();
            expect(body).not.toMatch(
              /\bat \S+ \(|Error:|\/srv\/|node_modules|127\.0\.0\.1|postgres:\/\//,
            );
            expect(sessionCookies(response)).toEqual([]);
          } finally {
            await downApp.close();
            await down.close?.().catch(() => {});
          }
        });
      }
    });
  }
}
