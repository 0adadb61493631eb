// Hono-specific behaviour beyond the shared scenarios: failures thrown to
// app.onError as HTTPException, streams, thrown HTTP errors, the commit
// rule, immutable headers, header merging, slot checks.
import { type RunningApp, SCENARIO_SECRET } from "@sessionkit/adapter-scenarios";
import {
  createSessionManager,
  ErrorCode,
  isSessionError,
  SessionError,
  type SessionStore,
} from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { stream } from "hono/streaming";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SessionVariables, sessionMiddleware } from "../src/index.js";
import { listen } from "./listen.js";

interface Data {
  blob?: string;
  n?: number;
}
const store = createMemoryStore({ gcIntervalMs: false });
const manager = (cookieName: string, sessionStore: SessionStore = store) =>
  createSessionManager<Data>({
    store: sessionStore,
    secrets: [SCENARIO_SECRET],
    maxPayloadBytes: 256,
    cookie: { name: cookieName },
  });

/** The store, except that reads fail as if its server were down. */
function failingReads(inner: SessionStore): SessionStore {
  return Object.assign(Object.create(inner) as SessionStore, {
    get: async () => {
      throw new SessionError(ErrorCode.STORE_UNAVAILABLE, "store down at 10.0.0.7 (test)");
    },
  });
}

type Env = { Variables: SessionVariables<"session", Data> & SessionVariables<"extra", Data> };
let running: RunningApp;
const errors: unknown[] = [];
/** What app.onError was handed, by path. */
const handled = new Map<string, unknown>();

/** The error handler Hono's docs show: an HTTPException answers its own response. */
function onError(app: Hono<Env>): void {
  app.onError((error, c) => {
    handled.set(c.req.path, error);
    return error instanceof HTTPException ? error.getResponse() : c.text("Error", 500);
  });
}

beforeAll(async () => {
  const app = new Hono<Env>();
  app.use(sessionMiddleware(manager("__Host-sid"), { onError: (error) => errors.push(error) }));
  app.use(sessionMiddleware(manager("__Host-extra"), { sessionName: "extra", onError: () => {} }));
  onError(app);
  app.post("/too-big", (c) => {
    c.get("session").set("blob", "x".repeat(1000));
    c.header("Set-Cookie", "theme=dark; Path=/", { append: true });
    return c.json({ ok: true });
  });
  app.post("/second-too-big", (c) => {
    c.get("session").set("n", 1);
    c.get("extra").set("blob", "x".repeat(1000));
    return c.json({ ok: true });
  });
  app.post("/stream-too-big", (c) => {
    c.get("session").set("blob", "x".repeat(1000));
    return stream(c, async (s) => {
      await s.write("part one, ");
      await s.write("part two");
    });
  });
  app.post("/seed", (c) => {
    c.get("session").set("n", 1);
    return c.json({ ok: true });
  });
  app.post("/bad-request", (c) => {
    c.get("session").set("n", 2);
    throw new HTTPException(400, { message: "Bad Request" });
  });
  app.post("/logout-503", (c) => {
    c.get("session").destroy();
    return c.json({ error: "unavailable" }, 503);
  });
  app.post("/discard", (c) => {
    c.get("session").set("n", 3).discard();
    return c.json({ error: "invalid form" }, 422);
  });
  app.post("/headers", (c) => {
    c.get("session").set("n", 1);
    c.header("Vary", "Accept-Encoding");
    c.header("Set-Cookie", "a=1; Path=/", { append: true });
    c.header("Set-Cookie", "b=2; Path=/", { append: true });
    return c.json({ ok: true });
  });
  app.post("/redirect", (c) => {
    c.get("session").set("n", 3);
    // Response.redirect() has immutable headers.
    return Response.redirect("https://example.com/next", 303);
  });
  app.get("/state", (c) => c.json({ n: c.get("session").get("n") ?? null }));
  running = await listen(app.fetch);
});
afterAll(async () => {
  await running.close();
});

const post = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${running.url}${path}`, { method: "POST", headers, redirect: "manual" });
const cookieOf = (response: Response): string =>
  response.headers.getSetCookie()[0]?.split(";")[0] ?? "";
const stateOf = async (cookie: string) =>
  (await fetch(`${running.url}/state`, { headers: { cookie } })).json();

describe("sessionMiddleware: failures are thrown to app.onError", () => {
  it("a failed commit reaches app.onError as an HTTPException whose response is bare, reported once (A24, A28, A39)", async () => {
    errors.length = 0;
    const response = await post("/too-big");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(errors).toMatchObject([{ code: "PAYLOAD_TOO_LARGE" }]);
    const error = handled.get("/too-big");
    expect(error).toBeInstanceOf(HTTPException);
    expect((error as HTTPException).status).toBe(500);
    expect((error as HTTPException).cause).toBe(errors[0]);
  });

  it("a failed commit of the second session sends no cookie of the first (A24, A10)", async () => {
    const response = await post("/second-too-big");
    expect(response.status).toBe(500);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("a failed commit replaces a streamed response without sending any of it (A24)", async () => {
    const response = await post("/stream-too-big");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
  });

  it("a failed load reaches app.onError as a 503 HTTPException and the route never runs (A30, A39)", async () => {
    const cookie = cookieOf(await post("/seed"));
    const broken = new Hono<Env>();
    const reported: unknown[] = [];
    broken.use(
      sessionMiddleware(manager("__Host-sid", failingReads(store)), {
        onError: (error) => reported.push(error),
      }),
    );
    onError(broken);
    let routeRan = false;
    broken.get("/broken", (c) => {
      routeRan = true;
      return c.json({ ok: true });
    });
    const response = await broken.request("/broken", { headers: { cookie } });
    expect(response.status).toBe(503);
    expect(await response.text()).toBe("Service Unavailable");
    expect(routeRan).toBe(false);
    expect(reported).toMatchObject([{ code: "STORE_UNAVAILABLE" }]);
    const error = handled.get("/broken") as HTTPException;
    expect(error.status).toBe(503);
    expect(isSessionError(error.cause)).toBe(true);
  });

  it("Hono's default error handler answers the bare response, without the app's headers (A39)", async () => {
    const bare = new Hono<Env>();
    bare.use(sessionMiddleware(manager("__Host-sid"), { onError: () => {} }));
    bare.post("/", (c) => {
      c.get("session").set("blob", "x".repeat(1000));
      c.header("Set-Cookie", "theme=dark; Path=/", { append: true });
      c.header("X-App", "yes");
      return c.json({ ok: true });
    });
    const response = await bare.request("/", { method: "POST" });
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect([...response.headers]).toEqual([
      ["cache-control", "no-store"],
      ["content-type", "text/plain; charset=utf-8"],
    ]);
  });
});

describe("sessionMiddleware: commit unless the handler threw", () => {
  it("a handler throwing an HTTPException saves nothing and sets no cookie (A25)", async () => {
    const cookie = cookieOf(await post("/seed"));
    const response = await post("/bad-request", { cookie });
    expect(response.status).toBe(400);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await stateOf(cookie)).toEqual({ n: 1 });
  });

  it("a handler answering 503 after destroy(), without throwing, destroys the session (A17, A25)", async () => {
    const cookie = cookieOf(await post("/seed"));
    const response = await post("/logout-503", { cookie });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: "unavailable" });
    expect(response.headers.getSetCookie()).toEqual([
      expect.stringMatching(/^__Host-sid=; Path=\/; Max-Age=0;/),
    ]);
    expect(await stateOf(cookie)).toEqual({ n: null });
  });

  it("session.discard() drops the request's changes", async () => {
    const cookie = cookieOf(await post("/seed"));
    const response = await post("/discard", { cookie });
    expect(response.status).toBe(422);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await stateOf(cookie)).toEqual({ n: 1 });
  });
});

describe("sessionMiddleware: headers", () => {
  it("other Set-Cookie headers are kept and Vary is merged (A10, A37)", async () => {
    const response = await post("/headers");
    const cookies = response.headers.getSetCookie();
    expect(cookies.slice(0, 2)).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(cookies.filter((c) => c.startsWith("__Host-sid="))).toHaveLength(1);
    expect(response.headers.get("vary")).toBe("Accept-Encoding, Cookie");
  });

  it("a response with immutable headers still gets the session cookie", async () => {
    const response = await post("/redirect");
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("https://example.com/next");
    const cookie = cookieOf(response);
    expect(cookie).toMatch(/^__Host-sid=/);
    expect(await stateOf(cookie)).toEqual({ n: 3 });
  });

  it("the cookie is Secure over plain http, whatever X-Forwarded-Proto says (A36)", async () => {
    const response = await post("/headers", { "x-forwarded-proto": "http" });
    const [cookie] = response.headers.getSetCookie().filter((c) => c.startsWith("__Host-sid="));
    expect(cookie).toMatch(/; Secure/);
  });
});

describe("sessionMiddleware(manager, options)", () => {
  it("two managers on one sessionName reach app.onError as a 500 instead of shadowing each other", async () => {
    const app = new Hono<Env>();
    app.use(sessionMiddleware(manager("__Host-a"), { onError: () => {} }));
    app.use(sessionMiddleware(manager("__Host-b"), { onError: () => {} }));
    onError(app);
    app.get("/clash", (c) => c.json({ ok: true }));
    const response = await app.request("/clash");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect(String((handled.get("/clash") as HTTPException).cause)).toMatch(
      /c\.get\("session"\) is already set/,
    );
  });

  it("one manager installed twice loads and commits one session", async () => {
    const sessions = manager("__Host-sid");
    const app = new Hono<Env>();
    app.use(sessionMiddleware(sessions), sessionMiddleware(sessions));
    app.post("/", (c) => {
      c.get("session").set("n", 1);
      return c.json({ ok: true });
    });
    const response = await app.request("/", { method: "POST" });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toHaveLength(1);
  });

  it("rejects a sessionName that is not an identifier with INVALID_CONFIG", () => {
    for (const sessionName of ["", "a-b", "__proto__", "1x"]) {
      expect(() => sessionMiddleware(manager("__Host-sid"), { sessionName })).toThrow(
        expect.objectContaining({ code: "INVALID_CONFIG" }),
      );
    }
  });

  it("sessionMiddleware() without a manager throws a TypeError naming the adapter", () => {
    expect(() => sessionMiddleware({} as never)).toThrow(
      new TypeError(
        "@sessionkit/hono: pass a SessionManager from createSessionManager() (got object)",
      ),
    );
  });
});
