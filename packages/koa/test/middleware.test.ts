// Koa-specific behaviour beyond the shared scenarios, on Koa 3 and Koa 2:
// failures thrown to Koa's error handling, stream bodies, thrown HTTP errors,
// the commit rule, header merging, responses written around Koa, slot checks.
import { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { Socket } from "node:net";
import { Readable } from "node:stream";
import {
  afterTurnWith,
  type RunningApp,
  SCENARIO_SECRET,
  TURN_LOADS,
} from "@sessionkit/adapter-scenarios";
import {
  createSessionManager,
  ErrorCode,
  isSessionError,
  type Session,
  SessionError,
  type SessionStore,
} from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import Koa from "koa";
import Koa2 from "koa2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { session } from "../src/index.js";
import { listen } from "./listen.js";

type Data = { blob?: string; n?: number };

declare module "../src/index.js" {
  interface KoaSessions {
    extra: Session<Data>;
  }
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

it("koa2 really is Koa 2 and koa is Koa 3", () => {
  const require = createRequire(import.meta.url);
  expect((require("koa2/package.json") as { version: string }).version).toMatch(/^2\./);
  expect((require("koa/package.json") as { version: string }).version).toMatch(/^3\./);
});

for (const { name, arrivals, deferred } of TURN_LOADS) {
  it(`${name}: ${deferred ? "a request whose session loaded without I/O goes on in the turn's check phase, with the turn's other requests" : "a request goes on at once"}`, async () => {
    await afterTurnWith(arrivals);
    const sessions = manager("sid_turn");
    const req = new IncomingMessage(new Socket());
    req.headers = {};
    const ctx = { req, res: new ServerResponse(req) } as unknown as Koa.Context;
    let resumed = false;
    // The manager hands every load of one request the same promise: the
    // middleware's continuation is settled before this one.
    const loaded = sessions.load(req);
    const handled = session(sessions)(ctx, async () => {
      resumed = true;
    });
    await loaded;
    await Promise.resolve();
    expect(resumed).toBe(!deferred);
    await new Promise((resolve) => setImmediate(resolve));
    expect(resumed).toBe(true);
    await handled;
  });
}

for (const [label, Framework] of [
  ["Koa 3", Koa],
  ["Koa 2", Koa2],
] as const) {
  describe(`session() on ${label}`, () => {
    let running: RunningApp;
    const errors: unknown[] = [];
    /** What the app's error middleware saw, then the app's "error" event, by path. */
    const caught = new Map<string, unknown>();
    const emitted = new Map<string, unknown>();

    /** An app with the usual outer error middleware, which records and rethrows to Koa. */
    function app(): Koa {
      const created = new Framework();
      created.on("error", (error: unknown, ctx: Koa.Context) => emitted.set(ctx.path, error));
      created.use(async (ctx, next) => {
        try {
          await next();
        } catch (error) {
          caught.set(ctx.path, error);
          throw error;
        }
      });
      return created;
    }

    beforeAll(async () => {
      const main = app();
      main.use(session(manager("__Host-sid"), { onError: (error) => errors.push(error) }));
      main.use(session(manager("__Host-extra"), { sessionName: "extra", onError: () => {} }));
      main.use(async (ctx) => {
        switch (ctx.path) {
          case "/too-big":
            ctx.session.set("blob", "x".repeat(1000));
            ctx.append("Set-Cookie", "theme=dark; Path=/");
            ctx.body = { ok: true };
            return;
          case "/second-too-big":
            ctx.session.set("n", 1);
            ctx.extra.set("blob", "x".repeat(1000));
            ctx.body = { ok: true };
            return;
          case "/stream-too-big":
            ctx.session.set("blob", "x".repeat(1000));
            ctx.type = "text/plain";
            ctx.body = Readable.from(["part one, ", "part two"]);
            return;
          case "/seed":
            ctx.session.set("n", 1);
            ctx.body = { ok: true };
            return;
          case "/bad-request":
            ctx.session.set("n", 2);
            ctx.throw(400, "bad input");
            return;
          case "/logout-503":
            ctx.session.destroy();
            ctx.status = 503;
            ctx.body = { error: "unavailable" };
            return;
          case "/discard":
            ctx.session.set("n", 3).discard();
            ctx.status = 422;
            ctx.body = { error: "invalid form" };
            return;
          case "/headers":
            ctx.session.set("n", 1);
            ctx.vary("Accept-Encoding");
            ctx.append("Set-Cookie", "a=1; Path=/");
            ctx.append("Set-Cookie", "b=2; Path=/");
            ctx.body = { ok: true };
            return;
          case "/raw":
            // Bypasses Koa's response: the session cannot be committed any more.
            ctx.session.set("n", 9);
            ctx.respond = false;
            ctx.res.end("raw");
            return;
          case "/state":
            ctx.body = { n: ctx.session.get("n") ?? null };
            return;
        }
      });
      running = await listen(main);
    });
    afterAll(async () => {
      await running.close();
    });
    const post = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${running.url}${path}`, { method: "POST", headers });
    const cookieOf = (response: Response): string =>
      response.headers.getSetCookie()[0]?.split(";")[0] ?? "";
    const stateOf = async (cookie: string) =>
      (await fetch(`${running.url}/state`, { headers: { cookie } })).json();
    /** Starts a one-off app, requests GET `path` with `cookie`, and closes it. */
    async function once(build: (koa: Koa) => void, path: string, cookie = ""): Promise<Response> {
      const koa = app();
      build(koa);
      const started = await listen(koa);
      try {
        return await fetch(`${started.url}${path}`, cookie === "" ? {} : { headers: { cookie } });
      } finally {
        await started.close();
      }
    }

    it("a failed commit is thrown to Koa: the error middleware and the error event see a SessionHttpError, the client a bare 500 (A24, A28, A39)", async () => {
      errors.length = 0;
      const response = await post("/too-big");
      expect(response.status).toBe(500);
      expect(await response.text()).toBe("Internal Server Error");
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(errors).toMatchObject([{ code: "PAYLOAD_TOO_LARGE" }]);
      expect(caught.get("/too-big")).toBe(emitted.get("/too-big"));
      expect(caught.get("/too-big")).toMatchObject({
        name: "SessionHttpError",
        status: 500,
        expose: false,
        cause: errors[0],
      });
    });

    it("a failed commit of the second session sends no cookie of the first (A24, A10)", async () => {
      const response = await post("/second-too-big");
      expect(response.status).toBe(500);
      expect(response.headers.getSetCookie()).toEqual([]);
    });

    it("a failed commit replaces a stream body without sending any of it (A24)", async () => {
      const response = await post("/stream-too-big");
      expect(response.status).toBe(500);
      expect(await response.text()).toBe("Internal Server Error");
    });

    it("a failed load is thrown to Koa as a 503 and the downstream never runs (A30, A39)", async () => {
      const cookie = cookieOf(await post("/seed"));
      let downstreamRan = false;
      const response = await once(
        (koa) => {
          koa.use(session(manager("__Host-sid", failingReads(store)), { onError: () => {} }));
          koa.use(async (ctx) => {
            downstreamRan = true;
            ctx.body = { ok: true };
          });
        },
        "/broken",
        cookie,
      );
      expect(response.status).toBe(503);
      expect(await response.text()).toBe("Service Unavailable");
      expect(downstreamRan).toBe(false);
      const error = caught.get("/broken") as { status?: number; cause?: unknown };
      expect(error.status).toBe(503);
      expect(isSessionError(error.cause) && error.cause.code).toBe("STORE_UNAVAILABLE");
    });

    it("a downstream ctx.throw(400) saves nothing and sets no cookie (A25)", async () => {
      const cookie = cookieOf(await post("/seed"));
      const response = await post("/bad-request", { cookie });
      expect(response.status).toBe(400);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(await stateOf(cookie)).toEqual({ n: 1 });
    });

    it("a downstream answering 503 after destroy(), without throwing, destroys the session (A17, A25)", async () => {
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

    it("other Set-Cookie headers are kept and Vary is merged (A10, A37)", async () => {
      const response = await post("/headers");
      const cookies = response.headers.getSetCookie();
      expect(cookies.slice(0, 2)).toEqual(["a=1; Path=/", "b=2; Path=/"]);
      expect(cookies.filter((c) => c.startsWith("__Host-sid="))).toHaveLength(1);
      expect(response.headers.get("vary")).toBe("Accept-Encoding, Cookie");
    });

    it("the cookie is Secure over plain http, whatever X-Forwarded-Proto says (A36)", async () => {
      const response = await post("/headers", { "x-forwarded-proto": "http" });
      const [cookie] = response.headers.getSetCookie().filter((c) => c.startsWith("__Host-sid="));
      expect(cookie).toMatch(/; Secure/);
    });

    it("a response written directly to ctx.res saves nothing and reports why (A24)", async () => {
      errors.length = 0;
      const response = await post("/raw");
      expect(await response.text()).toBe("raw");
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(errors.map(String)).toEqual([
        "Error: @sessionkit/koa: the response was sent before ctx.session was committed; nothing was saved",
      ]);
    });

    it("two managers on one sessionName are thrown to Koa as a 500 instead of shadowing each other", async () => {
      const response = await once((koa) => {
        koa.use(session(manager("__Host-a"), { onError: () => {} }));
        koa.use(session(manager("__Host-b"), { onError: () => {} }));
        koa.use(async (ctx) => {
          ctx.body = { ok: true };
        });
      }, "/clash");
      expect(response.status).toBe(500);
      expect(await response.text()).toBe("Internal Server Error");
      expect(String((caught.get("/clash") as { cause?: unknown }).cause)).toMatch(
        /ctx\.session is already set/,
      );
    });

    it("one manager installed twice loads and commits one session", async () => {
      const sessions = manager("__Host-sid");
      const response = await once((koa) => {
        koa.use(session(sessions));
        koa.use(session(sessions));
        koa.use(async (ctx) => {
          ctx.session.set("n", 1);
          ctx.body = { ok: true };
        });
      }, "/twice");
      expect(response.status).toBe(200);
      expect(response.headers.getSetCookie()).toHaveLength(1);
    });
  });
}

describe("session(manager, options)", () => {
  it("rejects a sessionName that is not an identifier with INVALID_CONFIG", () => {
    for (const sessionName of ["", "a-b", "__proto__", "1x"]) {
      expect(() => session(manager("__Host-sid"), { sessionName } as never)).toThrow(
        expect.objectContaining({ code: "INVALID_CONFIG" }),
      );
    }
  });

  it("session() without a manager throws a TypeError naming the adapter", () => {
    expect(() => session({} as never)).toThrow(
      new TypeError(
        "@sessionkit/koa: pass a SessionManager from createSessionManager() (got object)",
      ),
    );
  });
});
