// Requests in flight while their session changes under them: a late write
// never resurrects, extends or masks anything; concurrent writes all persist.
import { uniqueName } from "@sessionkit/conformance";
import type { SessionRecord } from "@sessionkit/core";
import { expect, it } from "vitest";
import {
  keyOf,
  type ScenarioHarness,
  SESSION_COOKIE,
  type State,
  sessionCookies,
} from "../harness.js";

/** Writes racing a logout, an expiry and a regenerate(), and concurrent writes to one session. */
export function raceScenarios(h: ScenarioHarness): void {
  it("a write whose session was logged out meanwhile answers a bare 409 with no Set-Cookie and creates nothing (A18, issue 12 item 1)", async () => {
    const user = uniqueName("racer");
    const browser = await h.loggedIn(user);
    const token = browser.cookies.get("__Host-sid");
    const late = await h.raceSlowSet(browser, "key=late&value=resurrected", () => h.logOut(token));
    await h.expectBareConflict(late);
    await h.expectAnonymousReplay(token);
    expect(await h.recordOf(token)).toBeNull();
    expect(await h.store.listByUser?.(user)).toEqual([]);
  });

  it("a handler's own commit() of a logged-out session rejects with CONFLICT and closes it: later commits resolve dropped, set() throws SESSION_CLOSED, nothing is created (A18, issue 12 item 1)", async () => {
    const user = uniqueName("racer");
    const browser = await h.loggedIn(user);
    const token = browser.cookies.get("__Host-sid");
    const late = await h.raceSlowSet(browser, "key=late&value=resurrected&commit=handler", () =>
      h.logOut(token),
    );
    expect(late.status).toBe(200);
    expect(await late.json()).toEqual({
      commit: "CONFLICT",
      again: "dropped",
      setAfter: "SESSION_CLOSED",
    });
    expect(late.headers.getSetCookie()).toEqual([]);
    expect(h.context.errors).toEqual([]);
    expect(await h.recordOf(token)).toBeNull();
    expect(await h.store.listByUser?.(user)).toEqual([]);
  });

  it("a write whose session expired meanwhile answers a bare 409 with no Set-Cookie and revives nothing (A18, A19, issue 12 item 1)", async () => {
    const user = uniqueName("racer");
    const browser = await h.loggedIn(user);
    const token = browser.cookies.get("__Host-sid");
    const key = keyOf(token);
    // The absolute deadline passes while the request is in flight.
    const late = await h.raceSlowSet(browser, "key=late&value=resurrected", async () => {
      const record = (await h.store.get(key)) as SessionRecord;
      expect(record).not.toBeNull();
      const expired = { ...record, createdAt: Date.now() - 25 * 3_600_000 };
      expect(
        await h.store.set(
          key,
          { ...expired, version: record.version + 1 },
          { ifVersion: record.version },
        ),
      ).toBe(true);
    });
    await h.expectBareConflict(late);
    await h.expectAnonymousReplay(token);
    expect(await h.store.get(key)).toBeNull();
    expect(await h.store.listByUser?.(user)).toEqual([]);
  });

  it("a write racing a regenerate() of its session answers a bare 409 and never clears the new cookie (A16, A18, issue 12 items 1-2)", async () => {
    const user = uniqueName("racer");
    const browser = await h.loggedIn(user);
    const oldToken = browser.cookies.get("__Host-sid");
    // The same browser logs in again in another tab: S → S′.
    const late = await h.raceSlowSet(browser, "key=late&value=resurrected", async () => {
      const relogin = await browser.request("POST", `/login?user=${user}-2`);
      expect(relogin.status).toBe(200);
      expect(sessionCookies(relogin)).toEqual([expect.stringMatching(SESSION_COOKIE)]);
    });
    await h.expectBareConflict(late);
    const state = await browser.request("GET", "/state");
    expect(await state.json()).toEqual({
      isNew: false,
      userId: `${user}-2`,
      data: { user: `${user}-2` },
    });
    expect(state.headers.getSetCookie()).toEqual([]);
    await h.expectAnonymousReplay(oldToken);
    expect(await h.recordOf(oldToken)).toBeNull();
    expect(await h.store.listByUser?.(user)).toEqual([]);
  });

  it("concurrent requests on one session changing different keys all persist (A23)", async () => {
    const browser = await h.loggedIn("dave");
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => browser.request("POST", `/set?key=k${i}&value=v${i}`)),
    );
    for (const response of responses) expect(response.status).toBe(200);
    const state = await browser.json<State>("GET", "/state");
    for (let i = 0; i < 10; i++) expect(state.data[`k${i}`]).toBe(`v${i}`);
    expect(state.userId).toBe("dave");
  });
}
