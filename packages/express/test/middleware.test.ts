// Express-specific behaviour beyond the shared scenarios, on Express 5 and 4.
import { Client, SCENARIO_SECRET } from "@sessionkit/adapter-scenarios";
import { createSessionManager, type SessionStore } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { createSqliteStore } from "@sessionkit/store-sqlite";
import express from "express";
import express4 from "express4";
import { afterEach, describe, expect, it } from "vitest";
import { session } from "../src/index.js";
import { type ExpressFactory, jsonErrorHandler, listen } from "./scenario-app.js";

interface Data {
  cart?: string[];
  seenBy?: string;
  poisoned?: boolean;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function manager(store: SessionStore = createMemoryStore({ sweepIntervalMs: false })) {
  return createSessionManager<Data>({ store, secrets: [SCENARIO_SECRET] });
}

/** A SQLite store whose database is closed: every operation fails with STORE_UNAVAILABLE. */
async function downStore(): Promise<SessionStore> {
  const store = createSqliteStore({ path: ":memory:", gcIntervalMs: false });
  await store.close();
  return store;
}

async function start(app: ReturnType<ExpressFactory>): Promise<Client> {
  app.use(jsonErrorHandler);
  const running = await listen(app);
  closers.push(() => running.close());
  return new Client(running.url);
}

function sessionCookies(response: Response, name = "__Host-sid"): string[] {
  return response.headers.getSetCookie().filter((cookie) => cookie.startsWith(`${name}=`));
}

const STACK_OR_DETAILS = /\bat \S+ \(|Error:|\/srv\/|node_modules|sqlite/;

describe.each([
  ["express 5", express],
  ["express 4", express4],
] as const)("%s", (_name, create: ExpressFactory) => {
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
    app.use(session(manager(await downStore())));
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

  it("a failed load answers a bare 503 without running the route (A30, A39)", async () => {
    const healthy = create();
    healthy.use(session(manager()));
    healthy.post("/", (req, res) => {
      req.session.set("cart", ["x"]);
      res.json({ ok: true });
    });
    const browser = await start(healthy);
    await browser.json("POST", "/");
    let routeRan = false;
    const broken = create();
    broken.use(session(manager(await downStore())));
    broken.get("/", (_req, res) => {
      routeRan = true;
      res.json({ ok: true });
    });
    const brokenClient = await start(broken);
    const response = await brokenClient.request("GET", "/", browser.cookieHeader);
    expect(response.status).toBe(503);
    const body = await response.text();
    expect(body).toBe("Service Unavailable");
    expect(body).not.toMatch(STACK_OR_DETAILS);
    expect(routeRan).toBe(false);
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
    // No jsonErrorHandler: Express's finalhandler answers.
    const running = await listen(app);
    closers.push(() => running.close());
    const browser = new Client(running.url);
    const failed = await browser.request("POST", "/fail");
    expect(failed.status).toBe(500);
    expect(failed.headers.getSetCookie()).toEqual([]);
    expect(await browser.json("GET", "/state")).toEqual({});
  });

  it("res.writeHead(500) from a route saves nothing (A25)", async () => {
    const app = create();
    app.use(session(manager()));
    app.post("/fail", (req, res) => {
      req.session.set("cart", ["poisoned"]);
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end("no");
    });
    const browser = await start(app);
    const failed = await browser.request("POST", "/fail");
    expect(failed.status).toBe(500);
    expect(failed.headers.getSetCookie()).toEqual([]);
  });

  it("a failed commit of the second session sends no Set-Cookie of the first (A10, A24)", async () => {
    const app = create();
    const main = session(manager());
    const prefs = session(manager(await downStore()), { property: "prefs" });
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

  it("two middlewares on one property answer 500 instead of shadowing each other", async () => {
    const app = create();
    app.use(session(manager()), session(manager()));
    app.get("/", (_req, res) => {
      res.json({ ok: true });
    });
    const browser = await start(app);
    const response = await browser.request("GET", "/");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
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

  it("rejects property names that are not identifiers or would touch prototypes", () => {
    for (const property of ["", "a-b", "__proto__", "constructor", "1x"]) {
      expect(() => session(manager(), { property })).toThrow(TypeError);
    }
    expect(session(manager(), { property: "prefs" }).property).toBe("prefs");
  });

  it("rejects something that is not a manager", () => {
    expect(() => session({} as never)).toThrow(TypeError);
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
