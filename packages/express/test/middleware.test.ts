// Express-specific behaviour beyond the shared scenarios, on Express 5 and 4.
import { AsyncLocalStorage } from "node:async_hooks";
import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { afterTurnWith, Client, SCENARIO_SECRET, TURN_LOADS } from "@sessionkit/adapter-scenarios";
import { createSessionManager, isSessionError, type SessionStore } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { createSqliteStore } from "@sessionkit/store-sqlite";
import express, { type ErrorRequestHandler } from "express";
import express4 from "express4";
import { afterEach, describe, expect, it } from "vitest";
import { session, sessionErrors } from "../src/index.js";
import { appErrorHandler, type ExpressFactory, listen } from "./scenario-app.js";

interface Data {
  cart?: string[];
  seenBy?: string;
  poisoned?: boolean;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function manager(store: SessionStore = createMemoryStore({ gcIntervalMs: false })) {
  return createSessionManager<Data>({ store, secrets: [SCENARIO_SECRET] });
}

/** A SQLite store whose database is closed: every operation fails with STORE_UNAVAILABLE. */
async function downStore(): Promise<SessionStore> {
  const store = createSqliteStore({ url: "sqlite::memory:", gcIntervalMs: false });
  await store.close();
  return store;
}

/** What the app's error handler was handed, per request path. */
type Seen = Map<string, unknown>;

/** Installs sessionErrors() and an error handler like a real app's, then listens. */
async function start(app: ReturnType<ExpressFactory>, seen?: Seen): Promise<Client> {
  app.use(sessionErrors());
  if (seen !== undefined) {
    const record: ErrorRequestHandler = (error, req, _res, next) => {
      seen.set(req.path, error);
      next(error);
    };
    app.use(record);
  }
  app.use(appErrorHandler);
  const running = await listen(app);
  closers.push(() => running.close());
  return new Client(running.url);
}

function sessionCookies(response: Response, name = "__Host-sid"): string[] {
  return response.headers.getSetCookie().filter((cookie) => cookie.startsWith(`${name}=`));
}

/** The cookie of a session stored by a healthy app: a later app on a down store must load it. */
async function storedSessionCookie(create: ExpressFactory): Promise<string> {
  const healthy = create();
  healthy.use(session(manager()));
  healthy.post("/", (req, res) => {
    req.session.set("cart", ["x"]);
    res.json({ ok: true });
  });
  const browser = await start(healthy);
  await browser.json("POST", "/");
  return browser.cookieHeader;
}

const STACK_OR_DETAILS = /\bat \S+ \(|Error:|\/srv\/|node_modules|sqlite/;

describe.each([
  ["express 5", express, express4],
  ["express 4", express4, express],
] as const)("%s", (_name, create: ExpressFactory, other: ExpressFactory) => {
  it("req.session is the same object in later middleware and routes", async () => {
    const app = create();
    const sessions = manager();
    const main = session(sessions);
    app.use(main);
    app.use((req, _res, next) => {
      req.session.set("cart", ["set by middleware"]);
      next();
    });
    app.get("/", (req, res) => {
      res.json({ same: req.session === main.from(req), cart: req.session.get("cart") });
    });
    const browser = await start(app);
    expect(await browser.json("GET", "/")).toEqual({ same: true, cart: ["set by middleware"] });
    expect(sessionCookies(browser.last as Response)).toHaveLength(1);
  });

  it("res.redirect() commits before the redirect is sent", async () => {
    const app = create();
    app.use(session(manager()));
    app.post("/add", (req, res) => {
      req.session.set("cart", ["apple"]);
      res.redirect(303, "/cart");
    });
    app.get("/cart", (req, res) => {
      res.json({ cart: req.session.get("cart") ?? null });
    });
    const browser = await start(app);
    const manual = await fetch(`${browser.baseUrl}/add`, { method: "POST", redirect: "manual" });
    expect(manual.status).toBe(303);
    const cookie = sessionCookies(manual)[0]?.split(";")[0] ?? "";
    expect(cookie).toMatch(/^__Host-sid=/);
    const cart = await fetch(`${browser.baseUrl}/cart`, { headers: { cookie } });
    expect(await cart.json()).toEqual({ cart: ["apple"] });
  });

  it("res.json() and res.send() commit before the body is sent", async () => {
    const app = create();
    app.use(session(manager()));
    app.post("/json", (req, res) => {
      req.session.set("cart", ["json"]);
      res.json({ ok: true });
    });
    app.post("/send", (req, res) => {
      req.session.set("cart", [...(req.session.get("cart") ?? []), "send"]);
      res.send("sent");
    });
    app.get("/cart", (req, res) => {
      res.send(req.session.get("cart")?.join(",") ?? "");
    });
    const browser = await start(app);
    const json = await browser.request("POST", "/json");
    expect(sessionCookies(json)).toHaveLength(1);
    const send = await browser.request("POST", "/send");
    expect(await send.text()).toBe("sent");
    expect(send.headers.get("vary")?.toLowerCase()).toContain("cookie");
    expect(await (await browser.request("GET", "/cart")).text()).toBe("json,send");
  });

  it("a streamed response (res.write) is committed before its first byte (A24)", async () => {
    const app = create();
    app.use(session(manager()));
    app.get("/stream", async (req, res, next) => {
      try {
        req.session.set("cart", ["streamed"]);
        res.setHeader("Content-Type", "text/plain");
        res.write("one,");
        await new Promise((resolve) => setImmediate(resolve));
        res.write("two,");
        res.end("three");
      } catch (error) {
        next(error);
      }
    });
    app.get("/cart", (req, res) => {
      res.json({ cart: req.session.get("cart") ?? null });
    });
    const browser = await start(app);
    const streamed = await browser.request("GET", "/stream");
    expect(sessionCookies(streamed)).toHaveLength(1);
    expect(await streamed.text()).toBe("one,two,three");
    expect(await browser.json("GET", "/cart")).toEqual({ cart: ["streamed"] });
  });

  for (const { name, arrivals, deferred } of TURN_LOADS) {
    it(`${name}: ${deferred ? "a request whose session loaded without I/O goes on in the turn's check phase, with the turn's other requests" : "a request goes on at once"}`, async () => {
      await afterTurnWith(arrivals);
      const sessions = manager();
      const middleware = session(sessions);
      const req = new IncomingMessage(new Socket());
      req.headers = {};
      const res = new ServerResponse(req);
      let resumed = false;
      // The manager hands every load of one request the same promise: the
      // middleware's continuation is settled before this one.
      const loaded = sessions.load(req);
      middleware(req, res, () => {
        resumed = true;
      });
      await loaded;
      expect(resumed).toBe(!deferred);
      await new Promise((resolve) => setImmediate(resolve));
      expect(resumed).toBe(true);
    });
  }

  it("the route runs in the request's async context (AsyncLocalStorage), also when its session loaded without I/O", async () => {
    const app = create();
    const context = new AsyncLocalStorage<string>();
    app.use((req, _res, next) => context.run(String(req.url), next));
    app.use(session(manager()));
    app.get("/traced/:id", (req, res) => {
      req.session.set("cart", [context.getStore() ?? "no context"]);
      res.send(req.session.get("cart")?.[0]);
    });
    const browser = await start(app);
    // Under load (two requests arrived in the last turn counted): the first
    // request to arrive goes on in the check phase.
    await afterTurnWith(2);
    const answers = await Promise.all(
      ["a", "b", "c"].map(async (id) => (await browser.request("GET", `/traced/${id}`)).text()),
    );
    expect(answers).toEqual(["/traced/a", "/traced/b", "/traced/c"]);
  });

  it("a middleware installed before the session one that wraps res.write/end sees every write", async () => {
    const app = create();
    const seen: string[] = [];
    // What compression() and similar middleware do: keep the current functions, wrap them.
    app.use((_req, res, next) => {
      const write = res.write;
      const end = res.end;
      res.write = function (this: typeof res, ...args: unknown[]) {
        seen.push(`write ${String(args[0])}`);
        return (write as (...a: unknown[]) => boolean).apply(this, args);
      } as typeof res.write;
      res.end = function (this: typeof res, ...args: unknown[]) {
        seen.push(`end ${String(args[0])}`);
        return (end as (...a: unknown[]) => typeof res).apply(this, args);
      } as typeof res.end;
      next();
    });
    app.use(session(manager()));
    app.get("/stream", async (req, res) => {
      req.session.set("cart", ["wrapped"]);
      res.write("a");
      // Write again only once the commit finished and the hold was released.
      while (!res.headersSent) await new Promise((resolve) => setImmediate(resolve));
      res.write("b");
      res.end("c");
    });
    const browser = await start(app);
    const streamed = await browser.request("GET", "/stream");
    expect(await streamed.text()).toBe("abc");
    expect(sessionCookies(streamed)).toHaveLength(1);
    expect(seen).toEqual(["write a", "write b", "end c"]);
  });

  it("a middleware installed after the session one that wraps res.write/end sees every write", async () => {
    const app = create();
    const seen: string[] = [];
    app.use(session(manager()));
    app.use((_req, res, next) => {
      const write = res.write;
      res.write = function (this: typeof res, ...args: unknown[]) {
        seen.push(`write ${String(args[0])}`);
        return (write as (...a: unknown[]) => boolean).apply(this, args);
      } as typeof res.write;
      next();
    });
    app.get("/stream", async (req, res) => {
      req.session.set("cart", ["wrapped"]);
      res.write("a");
      while (!res.headersSent) await new Promise((resolve) => setImmediate(resolve));
      res.write("b");
      res.end("c");
    });
    const browser = await start(app);
    expect(await (await browser.request("GET", "/stream")).text()).toBe("abc");
    expect(seen).toEqual(["write a", "write b"]);
  });

  it("a failed commit of a streamed response sends a bare 503 and none of the body (A24, A39)", async () => {
    const app = create();
    app.use(session(manager(await downStore()), { onError: () => {} }));
    app.get("/stream", async (req, res) => {
      req.session.set("cart", ["lost"]);
      res.write("partial ");
      await new Promise((resolve) => setImmediate(resolve));
      res.end("body");
    });
    const browser = await start(app);
    const response = await browser.request("GET", "/stream");
    expect(response.status).toBe(503);
    const body = await response.text();
    expect(body).toBe("Service Unavailable");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("a failed load reaches the app's error handler through next(err) as a SessionHttpError, and the route never runs (A30, A39)", async () => {
    const cookie = await storedSessionCookie(create);
    let routeRan = false;
    const broken = create();
    broken.use(session(manager(await downStore()), { onError: () => {} }));
    broken.get("/", (_req, res) => {
      routeRan = true;
      res.json({ ok: true });
    });
    const seen: Seen = new Map();
    const brokenClient = await start(broken, seen);
    const response = await brokenClient.request("GET", "/", cookie);
    expect(response.status).toBe(503);
    const body = await response.text();
    expect(body).toBe("Service Unavailable");
    expect(body).not.toMatch(STACK_OR_DETAILS);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(routeRan).toBe(false);
    const error = seen.get("/") as { cause?: unknown };
    expect(error).toMatchObject({
      name: "SessionHttpError",
      message: "Service Unavailable",
      status: 503,
      statusCode: 503,
      expose: false,
    });
    expect(isSessionError(error.cause) && error.cause.code).toBe("STORE_UNAVAILABLE");
  });

  it("an onError that throws on a failed load hands its error to the app's error handler instead (A30)", async () => {
    const cookie = await storedSessionCookie(create);
    const broken = create();
    broken.use(
      session(manager(await downStore()), {
        onError: () => {
          throw new Error("the app's logger is down (test)");
        },
      }),
    );
    broken.get("/", (_req, res) => {
      res.json({ ok: true });
    });
    const seen: Seen = new Map();
    const response = await (await start(broken, seen)).request("GET", "/", cookie);
    expect(response.status).toBe(500);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(String(seen.get("/"))).toContain("the app's logger is down (test)");
  });

  it("a failed load answered by Express's final handler in production shows only the status text (A39)", async () => {
    const app = create();
    app.set("env", "production");
    app.use(session(manager(await downStore()), { onError: () => {} }));
    app.get("/", (_req, res) => {
      res.json({ ok: true });
    });
    // No error handler of the app: finalhandler answers.
    const running = await listen(app);
    closers.push(() => running.close());
    const response = await new Client(running.url).request(
      "GET",
      "/",
      await storedSessionCookie(create),
    );
    expect(response.status).toBe(503);
    const body = await response.text();
    expect(body).toContain("<pre>Service Unavailable</pre>");
    expect(body).not.toMatch(STACK_OR_DETAILS);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("next(err) from a route saves nothing (A25)", async () => {
    const app = create();
    app.use(session(manager()));
    app.post("/add", (req, res) => {
      req.session.set("cart", ["apple"]);
      res.json({ ok: true });
    });
    app.post("/fail", (req, _res, next) => {
      req.session.set("cart", ["poisoned"]);
      next(new Error("failed"));
    });
    app.get("/state", (req, res) => {
      res.json(req.session.toJSON());
    });
    const browser = await start(app);
    await browser.json("POST", "/add");
    const failed = await browser.request("POST", "/fail");
    expect(failed.status).toBe(500);
    expect(failed.headers.getSetCookie()).toEqual([]);
    expect(await browser.json("GET", "/state")).toEqual({ cart: ["apple"] });
  });

  it("a thrown 4xx error answered 4xx by the app's error handler saves nothing (A25)", async () => {
    const app = create();
    app.use(session(manager()));
    app.post("/add", (req, res) => {
      req.session.set("cart", ["apple"]);
      res.json({ ok: true });
    });
    app.post("/bad", (req, _res, next) => {
      req.session.set("cart", ["poisoned"]);
      next(Object.assign(new Error("bad input"), { status: 400, expose: true }));
    });
    app.get("/state", (req, res) => {
      res.json(req.session.toJSON());
    });
    const browser = await start(app);
    await browser.json("POST", "/add");
    const failed = await browser.request("POST", "/bad");
    expect(failed.status).toBe(400);
    expect(await failed.text()).toBe("Bad Request");
    expect(failed.headers.getSetCookie()).toEqual([]);
    expect(await browser.json("GET", "/state")).toEqual({ cart: ["apple"] });
  });

  it("Express's default error handler (no app handler) also saves nothing (A25)", async () => {
    const app = create();
    app.use(session(manager()));
    app.post("/fail", (req) => {
      req.session.set("cart", ["poisoned"]);
      throw new Error("failed");
    });
    app.get("/state", (req, res) => {
      res.json(req.session.toJSON());
    });
    app.use(sessionErrors());
    // No app error handler: Express's finalhandler answers.
    const running = await listen(app);
    closers.push(() => running.close());
    const browser = new Client(running.url);
    const failed = await browser.request("POST", "/fail");
    expect(failed.status).toBe(500);
    expect(failed.headers.getSetCookie()).toEqual([]);
    expect(await browser.json("GET", "/state")).toEqual({});
  });

  it("a route answering 503 itself after destroy(), without throwing, destroys the session (A17, A25)", async () => {
    const store = createMemoryStore({ gcIntervalMs: false });
    const app = create();
    app.use(session(manager(store)));
    app.post("/login", (req, res) => {
      req.session.set("cart", ["apple"]);
      res.json({ ok: true });
    });
    app.post("/logout", (req, res) => {
      req.session.destroy();
      res.writeHead(503, { "Content-Type": "text/plain" });
      res.end("maintenance");
    });
    const browser = await start(app);
    await browser.json("POST", "/login");
    expect(await store.count()).toBe(1);
    const response = await browser.request("POST", "/logout");
    expect(response.status).toBe(503);
    expect(await response.text()).toBe("maintenance");
    expect(sessionCookies(response)).toEqual([
      expect.stringMatching(/^__Host-sid=; Path=\/; Max-Age=0;/),
    ]);
    expect(await store.count()).toBe(0);
  });

  it("session.discard() drops the request's changes, whatever the status", async () => {
    const app = create();
    app.use(session(manager()));
    app.post("/add", (req, res) => {
      req.session.set("cart", ["apple"]);
      res.json({ ok: true });
    });
    app.post("/invalid", (req, res) => {
      req.session.set("cart", ["half-done"]);
      req.session.discard();
      res.status(422).json({ error: "invalid form" });
    });
    app.get("/state", (req, res) => {
      res.json(req.session.toJSON());
    });
    const browser = await start(app);
    await browser.json("POST", "/add");
    const invalid = await browser.request("POST", "/invalid");
    expect(invalid.status).toBe(422);
    expect(invalid.headers.getSetCookie()).toEqual([]);
    expect(await browser.json("GET", "/state")).toEqual({ cart: ["apple"] });
  });

  it("a failed commit of the second session sends no Set-Cookie of the first (A10, A24)", async () => {
    const app = create();
    const main = session(manager());
    const prefs = session(manager(await downStore()), { sessionName: "prefs", onError: () => {} });
    app.use(main, prefs);
    app.post("/both", (req, res) => {
      main.from(req).set("cart", ["apple"]);
      prefs.from(req).set("seenBy", "prefs");
      res.cookie("theme", "dark");
      res.json({ ok: true });
    });
    const browser = await start(app);
    const response = await browser.request("POST", "/both");
    expect(response.status).toBe(503);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await response.text()).toBe("Service Unavailable");
  });

  it("Vary is merged and the app's own Set-Cookie headers are kept (A10, A37)", async () => {
    const app = create();
    app.use(session(manager()));
    app.post("/", (req, res) => {
      req.session.set("cart", ["x"]);
      res.vary("Accept-Encoding");
      res.cookie("a", "1");
      res.cookie("b", "2");
      res.json({ ok: true });
    });
    const browser = await start(app);
    const response = await browser.request("POST", "/");
    const cookies = response.headers.getSetCookie();
    expect(cookies.filter((c) => /^[ab]=/.test(c))).toHaveLength(2);
    expect(sessionCookies(response)).toHaveLength(1);
    expect(response.headers.get("vary")).toBe("Accept-Encoding, Cookie");
  });

  it("the cookie stays Secure whatever X-Forwarded-Proto or trust proxy say (A36)", async () => {
    const app = create();
    app.set("trust proxy", true);
    app.use(session(manager()));
    app.post("/", (req, res) => {
      req.session.set("cart", ["x"]);
      res.json({ protocol: req.protocol });
    });
    const browser = await start(app);
    const response = await fetch(`${browser.baseUrl}/`, {
      method: "POST",
      headers: { "x-forwarded-proto": "http" },
    });
    expect(await response.json()).toEqual({ protocol: "http" });
    expect(sessionCookies(response)[0]).toMatch(/; Secure/);
  });

  it("two managers on one sessionName reach the app's error handler as a 500 instead of shadowing each other", async () => {
    const app = create();
    app.use(session(manager(), { onError: () => {} }), session(manager(), { onError: () => {} }));
    app.get("/", (_req, res) => {
      res.json({ ok: true });
    });
    const seen: Seen = new Map();
    const browser = await start(app, seen);
    const response = await browser.request("GET", "/");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    const error = seen.get("/") as { status?: number; cause?: unknown };
    expect(error.status).toBe(500);
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(String(error.cause)).toMatch(/req\.session is already set/);
  });

  it("the hold adds no property to the response (held through ServerResponse.prototype)", async () => {
    const app = create();
    const added: PropertyKey[][] = [];
    let before: PropertyKey[] = [];
    app.use((_req, res, next) => {
      before = Reflect.ownKeys(res);
      next();
    });
    app.use(session(manager()));
    app.post("/", (req, res) => {
      added.push(Reflect.ownKeys(res).filter((key) => !before.includes(key)));
      req.session.set("cart", ["held"]);
      res.json({ ok: true });
    });
    const browser = await start(app);
    const response = await browser.request("POST", "/");
    expect(sessionCookies(response)).toHaveLength(1);
    expect(added).toEqual([[]]);
  });

  it("a session loaded in a sub-app of the other Express major is committed when the parent answers", async () => {
    // Leaving a sub-app gives the response its parent's prototype back: the
    // hold must survive it, whichever Express copy built either app.
    const parent = create();
    const sub = other();
    sub.use(session(manager()));
    sub.use((req, _res, next) => {
      req.session.set("cart", ["from the sub-app"]);
      next();
    });
    parent.use("/sub", sub as unknown as Parameters<typeof parent.use>[1]);
    parent.post("/sub/answer", (_req, res) => {
      res.json({ answeredBy: "parent" });
    });
    const browser = await start(parent);
    const response = await browser.request("POST", "/sub/answer");
    expect(await response.json()).toEqual({ answeredBy: "parent" });
    expect(sessionCookies(response)).toHaveLength(1);
  });

  it("a session loaded in the parent is committed when a sub-app of the other Express major answers", async () => {
    const parent = create();
    parent.use(session(manager()));
    const sub = other();
    sub.post("/answer", (req, res) => {
      (req as unknown as { session: { set(k: string, v: unknown): void } }).session.set("cart", [
        "from the parent",
      ]);
      res.write("streamed ");
      res.end("by the sub-app");
    });
    parent.use("/sub", sub as unknown as Parameters<typeof parent.use>[1]);
    parent.get("/cart", (req, res) => {
      res.json({ cart: req.session.get("cart") ?? null });
    });
    const browser = await start(parent);
    const response = await browser.request("POST", "/sub/answer");
    expect(await response.text()).toBe("streamed by the sub-app");
    expect(sessionCookies(response)).toHaveLength(1);
    expect(await browser.json("GET", "/cart")).toEqual({ cart: ["from the parent"] });
  });

  it("one manager installed twice loads and commits one session", async () => {
    const app = create();
    const sessions = manager();
    app.use(session(sessions));
    app.use(session(sessions));
    app.post("/", (req, res) => {
      req.session.set("cart", ["once"]);
      res.json({ ok: true });
    });
    const browser = await start(app);
    const response = await browser.request("POST", "/");
    expect(response.status).toBe(200);
    expect(sessionCookies(response)).toHaveLength(1);
  });
});

describe("session(manager, options)", () => {
  it("from(req) throws when the middleware did not run for the request", async () => {
    const main = session(manager());
    const app = express();
    app.get("/", (req, res) => {
      try {
        main.from(req);
        res.json({ threw: false });
      } catch (error) {
        res.json({ threw: error instanceof TypeError });
      }
    });
    const browser = await start(app);
    expect(await browser.json("GET", "/")).toEqual({ threw: true });
  });

  it("rejects a sessionName that is not an identifier or would touch prototypes with INVALID_CONFIG", () => {
    for (const sessionName of ["", "a-b", "__proto__", "constructor", "1x"]) {
      expect(() => session(manager(), { sessionName })).toThrow(
        expect.objectContaining({ code: "INVALID_CONFIG" }),
      );
    }
    expect(session(manager(), { sessionName: "prefs" }).sessionName).toBe("prefs");
  });

  it("rejects something that is not a manager with a TypeError naming the adapter", () => {
    expect(() => session({} as never)).toThrow(
      new TypeError(
        "@sessionkit/express: pass a SessionManager from createSessionManager() (got object)",
      ),
    );
  });

  it("reports load and commit errors to onError, never to the client", async () => {
    const errors: unknown[] = [];
    const app = express();
    app.use(session(manager(await downStore()), { onError: (error) => errors.push(error) }));
    app.post("/", (req, res) => {
      req.session.set("cart", ["x"]);
      res.json({ ok: true });
    });
    const browser = await start(app);
    const response = await browser.request("POST", "/");
    expect(response.status).toBe(503);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "STORE_UNAVAILABLE" });
  });
});
