// One rule on every adapter: a request's changes are committed unless its
// handler threw, whatever status the response carries; session.discard()
// drops them explicitly (A25, design review C-3, issue 13).
import { uniqueName } from "@sessionkit/conformance";
import { expect, it } from "vitest";
import type { Client } from "../client.js";
import {
  CLEARED_COOKIE,
  type ScenarioHarness,
  STACK_OR_DETAILS,
  type State,
  sessionCookies,
} from "../harness.js";
import { type ClientErrorStatus, UNAVAILABLE_BODY } from "../routes.js";

/** Thrown errors (500 and 4xx), a deliberate 503 after destroy(), and discard(). */
export function commitRuleScenarios(h: ScenarioHarness): void {
  /** `POST /throw-status` as `browser`, checking that the route's handler ran. */
  const throwStatus = async (browser: Client, status: ClientErrorStatus): Promise<Response> => {
    const name = uniqueName("gate");
    const gate = h.context.gates.create(name);
    gate.release();
    const response = await browser.request("POST", `/throw-status?status=${status}&gate=${name}`);
    // A 404 from an app without the route would pass every other check.
    expect(gate.reached, "the app's POST /throw-status handler did not run").toBe(true);
    const expected = h.options.thrownClientErrors ?? "as-thrown";
    expect(response.status).toBe(expected === "as-thrown" ? status : expected);
    expect(await response.text()).not.toMatch(STACK_OR_DETAILS);
    return response;
  };

  it("a handler that throws saves nothing and sends no session cookie (A25)", async () => {
    const browser = h.client();
    await browser.json("POST", "/cart?item=apple");
    const response = await browser.request("POST", "/throw");
    expect(response.status).toBe(500);
    expect(sessionCookies(response)).toEqual([]);
    expect(await response.text()).not.toMatch(STACK_OR_DETAILS);
    const state = await browser.json<State>("GET", "/state");
    expect(state.data.poisoned).toBeUndefined();
    expect(state.data.cart).toEqual(["apple"]);
  });

  it("a handler that throws a 4xx saves nothing: a thrown 400 leaves the existing session unchanged and sends no session cookie (A25)", async () => {
    const browser = h.client();
    await browser.json("POST", "/cart?item=apple");
    const token = browser.cookies.get("__Host-sid");
    const before = await h.recordOf(token);
    expect(before).not.toBeNull();
    const response = await throwStatus(browser, 400);
    expect(sessionCookies(response)).toEqual([]);
    expect(await h.recordOf(token)).toEqual(before);
    const state = await browser.json<State>("GET", "/state");
    expect(state.data).toEqual({ cart: ["apple"] });
  });

  it("a handler that throws a 4xx saves nothing: a thrown 404 on a first visit stores no record and sets no cookie (A25, A15)", async ({
    skip,
  }) => {
    const count = await h.recordCount(skip);
    const response = await throwStatus(h.client(), 404);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await h.recordCount(skip)).toBe(count);
  });

  it("a handler that destroys then answers 503 destroys the session (A17, A25)", async () => {
    const user = uniqueName("leaver");
    const browser = await h.loggedIn(user);
    const token = browser.cookies.get("__Host-sid");
    expect(await h.recordOf(token)).not.toBeNull();
    h.context.errors.length = 0;
    const response = await browser.request("POST", "/logout-unavailable");
    expect(response.status).toBe(503);
    // The app's own answer, not one the adapter rendered.
    expect(await response.json()).toEqual(UNAVAILABLE_BODY);
    expect(sessionCookies(response)).toEqual([expect.stringMatching(CLEARED_COOKIE)]);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(h.context.errors).toEqual([]);
    expect(await h.recordOf(token)).toBeNull();
    expect(await h.store.listByUser?.(user)).toEqual([]);
    await h.expectAnonymousReplay(token);
  });

  it("session.discard() drops the request's changes: a first visit stores no record and gets no cookie (A15, A25)", async ({
    skip,
  }) => {
    const count = await h.recordCount(skip);
    const response = await h.client().request("POST", "/discard?key=note&value=dropped");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await h.recordCount(skip)).toBe(count);
  });

  it("session.discard() drops the request's changes: an existing session is left as it was, with no Set-Cookie (A25)", async () => {
    const browser = h.client();
    await browser.json("POST", "/cart?item=apple");
    const token = browser.cookies.get("__Host-sid");
    const before = await h.recordOf(token);
    expect(before).not.toBeNull();
    const response = await browser.request("POST", "/discard?key=note&value=dropped");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await h.recordOf(token)).toEqual(before);
    expect((await browser.json<State>("GET", "/state")).data).toEqual({ cart: ["apple"] });
  });
}
