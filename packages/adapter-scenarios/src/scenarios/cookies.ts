// Cookies the app never issued, or issued for sessions that are gone: served
// anonymous, never answered with a Set-Cookie, never masking a live session.
import { randomBytes } from "node:crypto";
import { uniqueName } from "@sessionkit/conformance";
import { expect, it } from "vitest";
import type { ScenarioHarness, State } from "../harness.js";

/** 43 base64url characters: the shape of a session id, naming nothing. */
function randomId(): string {
  return randomBytes(32).toString("base64url");
}

/** Tampered, bogus, unknown, expired and corrupt cookies, and duplicate cookie names. */
export function cookieScenarios(h: ScenarioHarness): void {
  it("a tampered cookie is served anonymous with no Set-Cookie (A12, A14, A15)", async () => {
    const browser = await h.loggedIn("mallory");
    const value = browser.cookies.get("__Host-sid") ?? "";
    const flipped = `${value.slice(0, 10)}${value[10] === "A" ? "B" : "A"}${value.slice(11)}`;
    const response = await browser.request("GET", "/state", `__Host-sid=${flipped}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ isNew: true, userId: null, data: {} });
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("bogus, unverifiable, unknown, expired and corrupt cookies get no Set-Cookie at all (A15, issue 12 item 3)", async () => {
    // Validly signed cookies whose records are then made expired (the absolute
    // deadline passed) and corrupt (a payload that is not ours).
    const expired = (await h.loggedIn(uniqueName("expired"))).cookies.get("__Host-sid");
    await h.rewrite(expired, () => ({ createdAt: Date.now() - 25 * 3_600_000 }));
    const corrupt = (await h.loggedIn(uniqueName("corrupt"))).cookies.get("__Host-sid");
    await h.rewrite(corrupt, () => ({ payload: "not a sessionkit payload" }));
    const values = [
      "garbage",
      "",
      "a".repeat(87),
      `${randomId()}.${randomId()}`,
      await h.loggedOutToken(),
      expired ?? "",
      corrupt ?? "",
    ];
    for (let i = 0; i < 12; i++) values.push(`${randomId()}.${"x".repeat(i)}`);
    const setCookies: string[] = [];
    for (const value of values) {
      const response = await h.client().request("GET", "/state", `__Host-sid=${value}`);
      expect(response.status, value).toBe(200);
      expect(((await response.json()) as State).isNew, value).toBe(true);
      setCookies.push(...response.headers.getSetCookie());
    }
    expect(setCookies).toEqual([]);
  });

  it("a validly signed unknown duplicate cookie never masks the victim's session nor clears it (A8, issue 12 item 4)", async () => {
    const user = uniqueName("victim");
    const victim = await h.loggedIn(user);
    const token = victim.cookies.get("__Host-sid") ?? "";
    const [goneA, goneB] = [await h.loggedOutToken(), await h.loggedOutToken()];
    for (const header of [
      `__Host-sid=${goneA}; __Host-sid=${token}`,
      `__Host-sid=${goneA}; __Host-sid=${goneB}; __Host-sid=${token}`,
      `__Host-sid=${token}; __Host-sid=${goneA}`,
    ]) {
      const response = await h.client().request("GET", "/state", header);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ isNew: false, userId: user });
      expect(response.headers.getSetCookie()).toEqual([]);
    }
    expect((await victim.json<State>("GET", "/state")).userId).toBe(user);
  });
}
