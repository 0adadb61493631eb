/**
 * The HTTP scenarios every sessionkit framework adapter must pass, run over
 * real sockets against every store. An adapter's test file calls
 * {@link describeAdapterScenarios} with a function that starts an app
 * implementing the routes below with that framework.
 *
 * Routes (all answer JSON; query parameters carry the input):
 * - `GET /state` → `{ isNew, userId, data }` of the main session (`data` = `session.toJSON()`)
 * - `POST /login?user=U` → `session.regenerate().setUser(U).set("user", U)`; also sets two
 *   cookies of the app's own, `theme=dark; Path=/` and `lang=en; Path=/`, through the
 *   framework's cookie API → `{ ok: true }`
 * - `POST /cart?item=I` → appends I to `cart` → `{ cart }`
 * - `POST /set?key=K&value=V` → `session.set(K, V)` → `{ ok: true }`
 * - `POST /slow-set?key=K&value=V&gate=G[&commit=handler]` → {@link slowSet}: sets K, waits at
 *   the test-controlled gate G (`context.gates`), and with `commit=handler` commits in the
 *   handler before the adapter does
 * - `POST /logout` → `session.destroy()` → `{ ok: true }`
 * - `POST /logout-others` → `{ destroyed: await session.destroyOtherSessions() }`
 * - `POST /throw` → `session.set("poisoned", true)`, then throws an Error; the app answers 500
 * - `GET /prefs` → `{ theme }` from the second manager's session (`prefs`)
 * - `POST /prefs?theme=T` → `prefs.set("theme", T)` → `{ ok: true }`
 *
 * Every adapter's session middleware gets `onError: context.onError`, so the
 * scenarios can count the session failures it reports.
 */

import { uniqueName } from "@sessionkit/conformance";
import {
  createTokenSigner,
  generateSessionId,
  prepareSecrets,
  type SessionRecord,
  type SessionStore,
  storeKeyOf,
} from "@sessionkit/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AppContext,
  Client,
  createContext,
  outcomeOf,
  type RunningApp,
  SCENARIO_SECRET,
  type ScenarioData,
  type StartApp,
} from "./app.js";
import { storeCases } from "./stores.js";

export * from "./app.js";
export * from "./stores.js";

interface State {
  isNew: boolean;
  userId: string | null;
  data: ScenarioData;
}

const SESSION_COOKIE =
  /^__Host-sid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/;
const CLEARED_COOKIE =
  /^__Host-sid=; Path=\/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax$/;
const STACK_OR_DETAILS = /\bat \S+ \(|Error:|\/srv\/|node_modules|127\.0\.0\.1|postgres:\/\//;

function sessionCookies(response: Response, name = "__Host-sid"): string[] {
  return response.headers.getSetCookie().filter((cookie) => cookie.startsWith(`${name}=`));
}

/** The id inside a session cookie value (`<id>.<signature>`). */
function idOf(token: string | undefined): string {
  if (token === undefined) throw new Error("no session cookie");
  return token.slice(0, token.indexOf("."));
}

function codesOf(errors: readonly unknown[]): string[] {
  return errors.map(outcomeOf);
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
      let context: AppContext;
      let app: RunningApp;
      beforeAll(async () => {
        store = await storeCase.create();
        context = createContext(store);
        app = await startApp(context);
      });
      afterAll(async () => {
        await app?.close();
        if (store !== undefined) await storeCase.dispose(store);
      });
      const client = () => new Client(app.url);
      const signer = createTokenSigner("__Host-sid", prepareSecrets([SCENARIO_SECRET]));
      /** Logs a fresh client in as `user` and returns it. */
      const loggedIn = async (user: string): Promise<Client> => {
        const browser = client();
        await browser.json("POST", `/login?user=${encodeURIComponent(user)}`);
        return browser;
      };
      /** A validly signed cookie value naming no live session: logged in, then out. */
      const loggedOutToken = async (): Promise<string> => {
        const browser = await loggedIn(uniqueName("gone"));
        const token = browser.cookies.get("__Host-sid") ?? "";
        await browser.json("POST", "/logout");
        return token;
      };
      /**
       * Runs `meanwhile` while a `POST /slow-set` of `browser` waits at its
       * gate (its session loaded and changed), then lets it finish.
       */
      const raceSlowSet = async (
        browser: Client,
        query: string,
        meanwhile: () => Promise<void>,
      ): Promise<Response> => {
        const name = uniqueName("gate");
        const gate = context.gates.create(name);
        const response = browser.request("POST", `/slow-set?${query}&gate=${name}`);
        // Until the handler waits at the gate (or the request already ended).
        await Promise.race([gate.arrived, response]);
        context.errors.length = 0;
        try {
          await meanwhile();
        } finally {
          gate.release();
        }
        return response;
      };
      /** The answer to a write whose session ended meanwhile: a bare 409, no cookie, one CONFLICT reported. */
      const expectBareConflict = async (late: Response): Promise<void> => {
        expect(late.status).toBe(409);
        expect(late.headers.getSetCookie()).toEqual([]);
        expect(late.headers.get("content-type")).toMatch(/^text\/plain/);
        const body = await late.text();
        expect(body).not.toMatch(STACK_OR_DETAILS);
        expect(body).not.toContain("resurrected");
        expect(codesOf(context.errors)).toEqual(["CONFLICT"]);
      };
      /** A request with a dead session's cookie is served anonymous, with no Set-Cookie. */
      const expectAnonymousReplay = async (token: string | undefined): Promise<void> => {
        const replay = await client().request("GET", "/state", `__Host-sid=${token}`);
        expect(await replay.json()).toMatchObject({ isNew: true, userId: null, data: {} });
        expect(replay.headers.getSetCookie()).toEqual([]);
      };
      /** Logs `token`'s session out from another client. */
      const logOut = async (token: string | undefined): Promise<void> => {
        const logout = await client().request("POST", "/logout", `__Host-sid=${token}`);
        expect(logout.status).toBe(200);
      };

      it("the first visit sets no cookie until data is stored (A15)", async () => {
        const browser = client();
        const response = await browser.request("GET", "/state");
        expect(response.status).toBe(200);
        expect(((await response.json()) as State).isNew).toBe(true);
        expect(response.headers.getSetCookie()).toEqual([]);
        const added = await browser.request("POST", "/cart?item=apple");
        expect(added.status).toBe(200);
        expect(added.headers.getSetCookie()).toEqual([expect.stringMatching(SESSION_COOKIE)]);
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
        expect(browser.last?.headers.getSetCookie()).toEqual([]);
      });

      it("login sends the app's cookies once each plus one session cookie, regenerates the id, and the old cookie stops working (A16, A10, issue 12 item 11)", async () => {
        const browser = client();
        await browser.json("POST", "/cart?item=apple");
        const before = browser.cookieHeader;
        const login = await browser.request("POST", "/login?user=alice");
        expect(login.status).toBe(200);
        const setCookies = login.headers.getSetCookie();
        // The exact list: frameworks differ only in the case of attribute names.
        expect(
          setCookies
            .filter((cookie) => !cookie.startsWith("__Host-"))
            .map((cookie) => cookie.toLowerCase())
            .sort(),
        ).toEqual(["lang=en; path=/", "theme=dark; path=/"]);
        expect(sessionCookies(login)).toEqual([expect.stringMatching(SESSION_COOKIE)]);
        expect(setCookies).toHaveLength(3);
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

      it("logout clears the cookie and the record, and the replayed cookie gets no Set-Cookie (A17, A15)", async () => {
        const browser = await loggedIn("bob");
        const loggedInCookie = browser.cookieHeader;
        const token = browser.cookies.get("__Host-sid");
        const logout = await browser.request("POST", "/logout");
        expect(logout.status).toBe(200);
        expect(logout.headers.getSetCookie()).toEqual([expect.stringMatching(CLEARED_COOKIE)]);
        expect(logout.headers.get("cache-control")).toBe("no-store");
        expect(await store.get(storeKeyOf(idOf(token)))).toBeNull();
        const replay = await browser.request("GET", "/state", loggedInCookie);
        expect(replay.status).toBe(200);
        expect(((await replay.json()) as State).isNew).toBe(true);
        expect(replay.headers.getSetCookie()).toEqual([]);
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

      it("a tampered cookie is served anonymous with no Set-Cookie (A12, A14, A15)", async () => {
        const browser = await loggedIn("mallory");
        const value = browser.cookies.get("__Host-sid") ?? "";
        const flipped = `${value.slice(0, 10)}${value[10] === "A" ? "B" : "A"}${value.slice(11)}`;
        const response = await browser.request("GET", "/state", `__Host-sid=${flipped}`);
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ isNew: true, userId: null, data: {} });
        expect(response.headers.getSetCookie()).toEqual([]);
      });

      it("bogus, unverifiable, unknown, expired and corrupt cookies get no Set-Cookie at all (A15, issue 12 item 3)", async () => {
        // A record whose absolute deadline has passed, and one whose payload is not ours.
        const template = await loggedIn(uniqueName("template"));
        const record = (await store.get(
          storeKeyOf(idOf(template.cookies.get("__Host-sid"))),
        )) as SessionRecord;
        expect(record).not.toBeNull();
        const now = Date.now();
        const expiredId = generateSessionId();
        await store.set(
          storeKeyOf(expiredId),
          { ...record, createdAt: now - 25 * 3_600_000, expiresAt: now + 600_000, version: 1 },
          { ifVersion: 0 },
        );
        const corruptId = generateSessionId();
        await store.set(
          storeKeyOf(corruptId),
          {
            payload: "not a sessionkit payload",
            createdAt: now,
            expiresAt: now + 600_000,
            version: 1,
          },
          { ifVersion: 0 },
        );
        const values = [
          "garbage",
          "",
          "a".repeat(87),
          `${generateSessionId()}.${generateSessionId()}`,
          signer.sign(generateSessionId()),
          await loggedOutToken(),
          signer.sign(expiredId),
          signer.sign(corruptId),
        ];
        for (let i = 0; i < 12; i++) values.push(`${generateSessionId()}.${"x".repeat(i)}`);
        const setCookies: string[] = [];
        for (const value of values) {
          const response = await client().request("GET", "/state", `__Host-sid=${value}`);
          expect(response.status, value).toBe(200);
          expect(((await response.json()) as State).isNew, value).toBe(true);
          setCookies.push(...response.headers.getSetCookie());
        }
        expect(setCookies).toEqual([]);
      });

      it("a validly signed unknown duplicate cookie never masks the victim's session nor clears it (A8, issue 12 item 4)", async () => {
        const user = uniqueName("victim");
        const victim = await loggedIn(user);
        const token = victim.cookies.get("__Host-sid") ?? "";
        const [goneA, goneB] = [await loggedOutToken(), await loggedOutToken()];
        for (const header of [
          `__Host-sid=${goneA}; __Host-sid=${token}`,
          `__Host-sid=${goneA}; __Host-sid=${goneB}; __Host-sid=${token}`,
          `__Host-sid=${token}; __Host-sid=${goneA}`,
        ]) {
          const response = await client().request("GET", "/state", header);
          expect(response.status).toBe(200);
          expect(await response.json()).toMatchObject({ isNew: false, userId: user });
          expect(response.headers.getSetCookie()).toEqual([]);
        }
        expect((await victim.json<State>("GET", "/state")).userId).toBe(user);
      });

      it("a write whose session was logged out meanwhile answers a bare 409 with no Set-Cookie and creates nothing (A18, issue 12 item 1)", async () => {
        const user = uniqueName("racer");
        const browser = await loggedIn(user);
        const token = browser.cookies.get("__Host-sid");
        const late = await raceSlowSet(browser, "key=late&value=resurrected", () => logOut(token));
        await expectBareConflict(late);
        await expectAnonymousReplay(token);
        expect(await store.get(storeKeyOf(idOf(token)))).toBeNull();
        expect(await store.listByUser?.(user)).toEqual([]);
      });

      it("a handler's own commit() of a logged-out session rejects with CONFLICT and closes it: later commits resolve dropped, set() throws SESSION_CLOSED, nothing is created (A18, issue 12 item 1)", async () => {
        const user = uniqueName("racer");
        const browser = await loggedIn(user);
        const token = browser.cookies.get("__Host-sid");
        const late = await raceSlowSet(browser, "key=late&value=resurrected&commit=handler", () =>
          logOut(token),
        );
        expect(late.status).toBe(200);
        expect(await late.json()).toEqual({
          commit: "CONFLICT",
          again: "dropped",
          setAfter: "SESSION_CLOSED",
        });
        expect(late.headers.getSetCookie()).toEqual([]);
        expect(context.errors).toEqual([]);
        expect(await store.get(storeKeyOf(idOf(token)))).toBeNull();
        expect(await store.listByUser?.(user)).toEqual([]);
      });

      it("a write whose session expired meanwhile answers a bare 409 with no Set-Cookie and revives nothing (A18, A19, issue 12 item 1)", async () => {
        const user = uniqueName("racer");
        const browser = await loggedIn(user);
        const token = browser.cookies.get("__Host-sid");
        const key = storeKeyOf(idOf(token));
        // The absolute deadline passes while the request is in flight.
        const late = await raceSlowSet(browser, "key=late&value=resurrected", async () => {
          const record = (await store.get(key)) as SessionRecord;
          expect(record).not.toBeNull();
          const expired = { ...record, createdAt: Date.now() - 25 * 3_600_000 };
          expect(
            await store.set(
              key,
              { ...expired, version: record.version + 1 },
              {
                ifVersion: record.version,
              },
            ),
          ).toBe(true);
        });
        await expectBareConflict(late);
        await expectAnonymousReplay(token);
        expect(await store.get(key)).toBeNull();
        expect(await store.listByUser?.(user)).toEqual([]);
      });

      it("a write racing a regenerate() of its session answers a bare 409 and never clears the new cookie (A16, A18, issue 12 items 1-2)", async () => {
        const user = uniqueName("racer");
        const browser = await loggedIn(user);
        const oldToken = browser.cookies.get("__Host-sid");
        // The same browser logs in again in another tab: S → S′.
        const late = await raceSlowSet(browser, "key=late&value=resurrected", async () => {
          const relogin = await browser.request("POST", `/login?user=${user}-2`);
          expect(relogin.status).toBe(200);
          expect(sessionCookies(relogin)).toEqual([expect.stringMatching(SESSION_COOKIE)]);
        });
        await expectBareConflict(late);
        const state = await browser.request("GET", "/state");
        expect(await state.json()).toEqual({
          isNew: false,
          userId: `${user}-2`,
          data: { user: `${user}-2` },
        });
        expect(state.headers.getSetCookie()).toEqual([]);
        await expectAnonymousReplay(oldToken);
        expect(await store.get(storeKeyOf(idOf(oldToken)))).toBeNull();
        expect(await store.listByUser?.(user)).toEqual([]);
      });

      it("concurrent requests on one session changing different keys all persist (A23)", async () => {
        const browser = await loggedIn("dave");
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

      it("a handler that throws saves nothing and sends no session cookie (A25)", async () => {
        const browser = client();
        await browser.json("POST", "/cart?item=apple");
        const response = await browser.request("POST", "/throw");
        expect(response.status).toBe(500);
        expect(sessionCookies(response)).toEqual([]);
        expect(await response.text()).not.toMatch(STACK_OR_DETAILS);
        const state = await browser.json<State>("GET", "/state");
        expect(state.data.poisoned).toBeUndefined();
        expect(state.data.cart).toEqual(["apple"]);
      });

      it("two named sessions work side by side in one request", async () => {
        const browser = client();
        await browser.json("POST", "/cart?item=apple");
        const prefs = await browser.request("POST", "/prefs?theme=dark");
        expect(prefs.status).toBe(200);
        expect(prefs.headers.getSetCookie()).toEqual([
          expect.stringMatching(
            /^__Host-prefs=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
          ),
        ]);
        expect(await browser.json("GET", "/prefs")).toEqual({ theme: "dark" });
        expect((await browser.json<State>("GET", "/state")).data.cart).toEqual(["apple"]);
      });

      const createDown = storeCase.createDown;
      if (createDown !== undefined) {
        it("a down store gives 503 with no stack trace and no session cookie, reported once to onError (A30, A39)", async () => {
          const down = await createDown();
          const downContext = createContext(down);
          const downApp = await startApp(downContext);
          try {
            const response = await new Client(downApp.url).request("POST", "/cart?item=apple");
            expect(response.status).toBe(503);
            const body = await response.text();
            expect(body).not.toMatch(STACK_OR_DETAILS);
            expect(response.headers.getSetCookie()).toEqual([]);
            expect(codesOf(downContext.errors)).toEqual([
              expect.stringMatching(/^STORE_(UNAVAILABLE|TIMEOUT)$/),
            ]);
          } finally {
            await downApp.close();
            await down.close?.().catch(() => {});
          }
        });
      }
    });
  }
}
