// Sessions as an application sees them: created lazily, kept across requests,
// rotated on login, ended on logout, per user, two side by side.
import { uniqueName } from "@sessionkit/conformance";
import { expect, it } from "vitest";
import {
  CLEARED_COOKIE,
  type ScenarioHarness,
  SESSION_COOKIE,
  type State,
  sessionCookies,
} from "../harness.js";

/** The everyday scenarios: lazy creation, persistence, login, logout, per-user logout, two sessions. */
export function basicScenarios(h: ScenarioHarness): void {
  it("the first visit sets no cookie until data is stored (A15)", async () => {
    const browser = h.client();
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
    const browser = h.client();
    await browser.json("POST", "/cart?item=apple");
    await browser.json("POST", "/cart?item=pear");
    const state = await browser.json<State>("GET", "/state");
    expect(state.data.cart).toEqual(["apple", "pear"]);
    expect(browser.last?.headers.get("vary")?.toLowerCase()).toContain("cookie");
    expect(browser.last?.headers.getSetCookie()).toEqual([]);
  });

  it("login sends the app's cookies once each plus one session cookie, regenerates the id, and the old cookie stops working (A16, A10, issue 12 item 11)", async () => {
    const browser = h.client();
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
    const browser = await h.loggedIn("bob");
    const loggedInCookie = browser.cookieHeader;
    const token = browser.cookies.get("__Host-sid");
    const logout = await browser.request("POST", "/logout");
    expect(logout.status).toBe(200);
    expect(logout.headers.getSetCookie()).toEqual([expect.stringMatching(CLEARED_COOKIE)]);
    expect(logout.headers.get("cache-control")).toBe("no-store");
    expect(await h.recordOf(token)).toBeNull();
    const replay = await browser.request("GET", "/state", loggedInCookie);
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as State).isNew).toBe(true);
    expect(replay.headers.getSetCookie()).toEqual([]);
  });

  it('"log out everywhere else" ends the user\'s other sessions on their next request (A21, A22)', async () => {
    const user = `carol-${uniqueName("u")}`;
    const [laptop, phone, tablet] = [h.client(), h.client(), h.client()];
    const stranger = h.client();
    for (const device of [laptop, phone, tablet]) await device.json("POST", `/login?user=${user}`);
    await stranger.json("POST", "/login?user=someone-else");
    expect(await laptop.json("POST", "/logout-others")).toEqual({ destroyed: 2 });
    expect((await phone.json<State>("GET", "/state")).isNew).toBe(true);
    expect((await tablet.json<State>("GET", "/state")).isNew).toBe(true);
    expect((await laptop.json<State>("GET", "/state")).userId).toBe(user);
    expect((await stranger.json<State>("GET", "/state")).userId).toBe("someone-else");
  });

  it("two named sessions work side by side in one request", async () => {
    const browser = h.client();
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
}
