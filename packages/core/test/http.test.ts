// core's own HTTP helpers: createNodeHandler and holdResponseUntil
// (@sessionkit/core/node), withSession (@sessionkit/core). The commit rule
// is the adapters' one: commit unless the handler threw (A25).
import { once } from "node:events";
import { createServer, IncomingMessage, type Server, ServerResponse } from "node:http";
import { type AddressInfo, Socket } from "node:net";
import {
  createSessionManager,
  ErrorCode,
  SessionError,
  type SessionStore,
  withSession,
} from "@sessionkit/core";
import { createNodeHandler, holdResponseUntil } from "@sessionkit/core/node";
import { afterEach, describe, expect, it, vi } from "vitest";
import { afterTurnWith, SECRET, TURN_LOADS } from "./helpers.js";
import { mapStore } from "./map-store.js";

interface Data {
  visits: number;
  [key: string]: unknown;
}

const servers: Server[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A store whose writes fail as if the server were down. */
function failingWrites(inner: SessionStore): SessionStore {
  return Object.assign(Object.create(inner) as SessionStore, {
    set: async () => {
      throw new SessionError(ErrorCode.STORE_UNAVAILABLE, "store down (test)", {
        store: "map",
        operation: "set",
      });
    },
  });
}

/** How many sessions the store holds (the map store always counts). */
async function stored(store: SessionStore): Promise<number> {
  if (store.count === undefined) throw new Error("the store cannot count");
  return store.count();
}

function cookieOf(response: Response): string {
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith("__Host-sid="));
  if (setCookie === undefined) throw new Error("no session cookie");
  return setCookie.slice(0, setCookie.indexOf(";"));
}

/** Stores one session holding `visits: 1` through `handle` and returns its cookie. */
async function seeded(handle: (request: Request) => Promise<Response>): Promise<string> {
  return cookieOf(await handle(new Request("https://example.test/seed", { method: "POST" })));
}

describe("createNodeHandler()", () => {
  function app(store: SessionStore, onError?: (error: unknown) => void) {
    const sessions = createSessionManager<Data>({ store, secrets: [SECRET] });
    return listen(
      createNodeHandler(
        sessions,
        async (req, res, session) => {
          switch (req.url) {
            case "/seed":
              session.set("visits", 1);
              res.end("seeded");
              return;
            case "/logout-503":
              session.destroy();
              res.writeHead(503, { "Content-Type": "text/plain" }).end("maintenance");
              return;
            case "/throw-400":
              session.set("visits", 99);
              throw Object.assign(new Error("bad input (test)"), { status: 400 });
            case "/discard":
              session.set("visits", 99);
              session.discard();
              res.end("discarded");
              return;
            default:
              res.end(String(session.get("visits") ?? 0));
          }
        },
        onError === undefined ? {} : { onError },
      ),
    );
  }

  for (const { name, arrivals, deferred } of TURN_LOADS) {
    it(`${name}: ${deferred ? "runs the handler of a session loaded without I/O in the turn's check phase, with the turn's other requests" : "runs the handler at once"}`, async () => {
      await afterTurnWith(arrivals);
      const sessions = createSessionManager<Data>({ store: mapStore(), secrets: [SECRET] });
      let handled = false;
      const handle = createNodeHandler(sessions, (_req, res) => {
        handled = true;
        res.end();
      });
      const req = new IncomingMessage(new Socket());
      req.headers = {};
      // The manager hands every load of one request the same promise: the
      // handler's continuation is settled before this one.
      const loaded = sessions.load(req);
      handle(req, new ServerResponse(req));
      await loaded;
      expect(handled).toBe(!deferred);
      await new Promise((resolve) => setImmediate(resolve));
      expect(handled).toBe(true);
    });
  }

  it("commits before the response is sent and keeps the handler's own cookies (A10, A24)", async () => {
    const store = mapStore();
    const sessions = createSessionManager<Data>({ store, secrets: [SECRET] });
    const url = await listen(
      createNodeHandler(sessions, async (_req, res, session) => {
        session.set("visits", (session.get("visits") ?? 0) + 1);
        res.setHeader("Set-Cookie", ["theme=dark; Path=/"]);
        res.writeHead(200, { "Content-Type": "text/plain", "Set-Cookie": "lang=en; Path=/" });
        res.write("visit ");
        res.end(String(session.get("visits")));
      }),
    );
    const first = await fetch(url);
    expect(await first.text()).toBe("visit 1");
    const cookies = first.headers.getSetCookie();
    expect(cookies.filter((c) => c.startsWith("__Host-sid="))).toHaveLength(1);
    expect(cookies.filter((c) => !c.startsWith("__Host-sid=")).sort()).toEqual([
      "lang=en; Path=/",
      "theme=dark; Path=/",
    ]);
    expect(first.headers.get("cache-control")).toBe("no-store");
    expect(first.headers.get("vary")).toBe("Cookie");
    const second = await fetch(url, { headers: { cookie: cookieOf(first) } });
    expect(await second.text()).toBe("visit 2");
    expect(await stored(store)).toBe(1);
  });

  it("sends an unchanged session's response within res.end(), a changed one's once its commit landed (A24)", async () => {
    const store = mapStore();
    const sessions = createSessionManager<Data>({ store, secrets: [SECRET] });
    const sentAtEnd: Record<string, boolean> = {};
    const url = await listen(
      createNodeHandler(sessions, (req, res, session) => {
        if (req.url === "/write") session.set("visits", (session.get("visits") ?? 0) + 1);
        else session.get("visits");
        res.end("ok");
        sentAtEnd[req.url as string] = res.headersSent;
      }),
    );
    const written = await fetch(`${url}/write`);
    expect(await written.text()).toBe("ok");
    expect(await stored(store)).toBe(1);
    const read = await fetch(`${url}/read`, { headers: { cookie: cookieOf(written) } });
    expect(await read.text()).toBe("ok");
    expect(read.headers.get("vary")).toBe("Cookie");
    expect(read.headers.getSetCookie()).toEqual([]);
    // The read had nothing to write: no promise stood between end() and the wire.
    expect(sentAtEnd).toEqual({ "/write": false, "/read": true });
  });

  it("merges Vary with the handler's own and replaces the other session headers (A37)", async () => {
    const sessions = createSessionManager<Data>({ store: mapStore(), secrets: [SECRET] });
    const url = await listen(
      createNodeHandler(sessions, (_req, res, session) => {
        session.set("visits", 1);
        res.setHeader("Vary", "Accept-Encoding");
        res.setHeader("Cache-Control", "max-age=60");
        res.end("ok");
      }),
    );
    const response = await fetch(url);
    expect(await response.text()).toBe("ok");
    expect(response.headers.get("vary")).toBe("Accept-Encoding, Cookie");
    // A response that sets a session cookie is never cached by a shared cache.
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.getSetCookie()).toHaveLength(1);
  });

  it("a failed save turns into a bare 503 and none of the handler's response is sent (A24, A39)", async () => {
    const errors: unknown[] = [];
    const url = await app(failingWrites(mapStore()), (error) => errors.push(error));
    const response = await fetch(`${url}/seed`);
    expect(response.status).toBe(503);
    expect(await response.text()).toBe("Service Unavailable");
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(errors).toMatchObject([{ code: ErrorCode.STORE_UNAVAILABLE }]);
  });

  it("a handler that throws an error with a 4xx status saves nothing and answers a bare 500 (A25, A39)", async () => {
    const store = mapStore();
    const errors: unknown[] = [];
    const url = await app(store, (error) => errors.push(error));
    const cookie = cookieOf(await fetch(`${url}/seed`));
    const response = await fetch(`${url}/throw-400`, { headers: { cookie } });
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(await (await fetch(url, { headers: { cookie } })).text()).toBe("1");
  });

  it.each([
    [
      "throws synchronously",
      (): unknown => {
        throw new Error("sync failure (test)");
      },
    ],
    [
      "returns a thenable that rejects",
      (): unknown => ({
        // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise, on purpose
        then: (_resolve: unknown, reject: (error: unknown) => void) =>
          reject(new Error("thenable failure (test)")),
      }),
    ],
    [
      "returns a thenable whose then() throws",
      (): unknown => ({
        // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise, on purpose
        then: () => {
          throw new Error("then failure (test)");
        },
      }),
    ],
  ])(
    "a plain (not async) handler that %s saves nothing and answers a bare 500 (A25, A39)",
    async (_, fails) => {
      const store = mapStore();
      const sessions = createSessionManager<Data>({ store, secrets: [SECRET] });
      const errors: unknown[] = [];
      const url = await listen(
        createNodeHandler(
          sessions,
          (req, res, session) => {
            if (req.url === "/read") {
              res.end(String(session.get("visits")));
              return undefined;
            }
            session.set("visits", req.url === "/seed" ? 1 : 99);
            if (req.url === "/seed") {
              res.end("seeded");
              return undefined;
            }
            return fails();
          },
          { onError: (error) => errors.push(error) },
        ),
      );
      const cookie = cookieOf(await fetch(`${url}/seed`));
      const response = await fetch(`${url}/fail`, { headers: { cookie } });
      expect(response.status).toBe(500);
      expect(await response.text()).toBe("Internal Server Error");
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(errors).toMatchObject([{ message: expect.stringContaining("(test)") }]);
      expect(await (await fetch(`${url}/read`, { headers: { cookie } })).text()).toBe("1");
    },
  );

  it("a failed load answers a bare 503, reports the error and never runs the handler (A24, A39)", async () => {
    const failingReads = Object.assign(Object.create(mapStore()) as SessionStore, {
      get: async () => {
        throw new SessionError(ErrorCode.STORE_UNAVAILABLE, "store down (test)", {
          store: "map",
          operation: "get",
        });
      },
    });
    // A validly signed cookie, so that loading asks the store.
    const seeding = createSessionManager<Data>({ store: mapStore(), secrets: [SECRET] });
    const seededCookie = cookieOf(
      await fetch(
        await listen(
          createNodeHandler(seeding, (_req, res, session) => {
            session.set("visits", 1);
            res.end();
          }),
        ),
      ),
    );
    const sessions = createSessionManager<Data>({ store: failingReads, secrets: [SECRET] });
    const errors: unknown[] = [];
    const handler = vi.fn();
    const url = await listen(
      createNodeHandler(sessions, handler, { onError: (error) => errors.push(error) }),
    );
    const response = await fetch(url, { headers: { cookie: seededCookie } });
    expect(response.status).toBe(503);
    expect(await response.text()).toBe("Service Unavailable");
    expect(handler).not.toHaveBeenCalled();
    expect(errors).toMatchObject([{ code: ErrorCode.STORE_UNAVAILABLE }]);
  });

  it("a handler that calls destroy() and answers 503 without throwing destroys the session (A17, A25)", async () => {
    const store = mapStore();
    const url = await app(store);
    const cookie = cookieOf(await fetch(`${url}/seed`));
    expect(await stored(store)).toBe(1);
    const response = await fetch(`${url}/logout-503`, { headers: { cookie } });
    expect(response.status).toBe(503);
    expect(await response.text()).toBe("maintenance");
    expect(response.headers.getSetCookie()).toEqual([
      expect.stringMatching(/^__Host-sid=; Path=\/; Max-Age=0;/),
    ]);
    expect(await stored(store)).toBe(0);
  });

  it("session.discard() drops the request's changes", async () => {
    const store = mapStore();
    const url = await app(store);
    const cookie = cookieOf(await fetch(`${url}/seed`));
    const response = await fetch(`${url}/discard`, { headers: { cookie } });
    expect(await response.text()).toBe("discarded");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await (await fetch(url, { headers: { cookie } })).text()).toBe("1");
  });

  it("an onError that throws is logged with console.error, and the client still gets its bare answer", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const url = await app(mapStore(), () => {
      throw new Error("the app's logger is down (test)");
    });
    const response = await fetch(`${url}/throw-400`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect(logged).toHaveBeenCalledTimes(1);
    expect(String(logged.mock.calls[0]?.[0])).toContain("the app's logger is down (test)");
    logged.mockRestore();
  });

  it("an onError that throws on a failed commit is logged, never an unhandled rejection (A30)", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on("unhandledRejection", onUnhandled);
    try {
      const url = await app(failingWrites(mapStore()), () => {
        throw new Error("the app's logger is down (test)");
      });
      const response = await fetch(`${url}/seed`);
      expect(response.status).toBe(503);
      expect(response.headers.getSetCookie()).toEqual([]);
      // An unhandled rejection is reported after the microtasks of its turn.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect(logged).toHaveBeenCalledTimes(1);
      expect(String(logged.mock.calls[0]?.[0])).toContain("the app's logger is down (test)");
    } finally {
      process.off("unhandledRejection", onUnhandled);
      logged.mockRestore();
    }
  });

  it("logs each failure once with console.error when no onError is given", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const url = await app(failingWrites(mapStore()));
    expect((await fetch(`${url}/seed`)).status).toBe(503);
    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged.mock.calls[0]?.[0]).toMatchObject({ code: ErrorCode.STORE_UNAVAILABLE });
  });
});

describe("withSession()", () => {
  function handler(store: SessionStore, onError?: (error: unknown) => void) {
    const sessions = createSessionManager<Data>({ store, secrets: [SECRET] });
    return withSession(
      sessions,
      (request, session) => {
        switch (new URL(request.url).pathname) {
          case "/seed":
            session.set("visits", 1);
            return new Response("seeded");
          case "/logout-503":
            session.destroy();
            return new Response("maintenance", { status: 503 });
          case "/throw-400":
            session.set("visits", 99);
            throw Object.assign(new Error("bad input (test)"), { status: 400 });
          case "/discard":
            session.set("visits", 99);
            session.discard();
            return new Response("discarded");
          default:
            return new Response(String(session.get("visits") ?? 0));
        }
      },
      onError === undefined ? {} : { onError },
    );
  }
  const get = (path: string, cookie: string) =>
    new Request(`https://example.test${path}`, { headers: { cookie } });

  it("adds the session headers to the handler's response, even when its headers are immutable", async () => {
    const store = mapStore();
    const sessions = createSessionManager<Data>({ store, secrets: [SECRET] });
    const handle = withSession(sessions, async (_request, session) => {
      session.set("visits", (session.get("visits") ?? 0) + 1);
      return Response.redirect("https://example.test/next", 303);
    });
    const first = await handle(new Request("https://example.test/"));
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("https://example.test/next");
    const cookie = cookieOf(first);
    await handle(new Request("https://example.test/", { headers: { cookie } }));
    const [key] = (await store.keys?.())?.keys ?? [];
    expect(JSON.parse((await store.get(key as string))?.payload ?? "{}")).toEqual({
      d: { visits: 2 },
    });
  });

  it("a failed save gives a bare 503 response instead of the handler's, reported once", async () => {
    const errors: unknown[] = [];
    const handle = handler(failingWrites(mapStore()), (error) => errors.push(error));
    const response = await handle(new Request("https://example.test/seed"));
    expect(response.status).toBe(503);
    expect(await response.text()).toBe("Service Unavailable");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(errors).toMatchObject([{ code: ErrorCode.STORE_UNAVAILABLE }]);
  });

  it("a handler that throws an error with a 4xx status saves nothing; the error propagates (A25)", async () => {
    const handle = handler(mapStore());
    const cookie = await seeded(handle);
    await expect(handle(get("/throw-400", cookie))).rejects.toThrow("bad input (test)");
    expect(await (await handle(get("/", cookie))).text()).toBe("1");
  });

  it("a handler that calls destroy() and answers 503 destroys the session (A17, A25)", async () => {
    const store = mapStore();
    const handle = handler(store);
    const cookie = await seeded(handle);
    const response = await handle(get("/logout-503", cookie));
    expect(response.status).toBe(503);
    expect(response.headers.getSetCookie()).toEqual([
      expect.stringMatching(/^__Host-sid=; Path=\/; Max-Age=0;/),
    ]);
    expect(await stored(store)).toBe(0);
  });

  it("session.discard() drops the request's changes", async () => {
    const handle = handler(mapStore());
    const cookie = await seeded(handle);
    const response = await handle(get("/discard", cookie));
    expect(await response.text()).toBe("discarded");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await (await handle(get("/", cookie))).text()).toBe("1");
  });
});

/**
 * Gives `res` a prototype of its own, as Express does to every response
 * (`Object.setPrototypeOf(res, app.response)`): such a response is held
 * through `ServerResponse.prototype` instead of properties of its own.
 */
function reprototype(res: ServerResponse): void {
  Object.setPrototypeOf(res, Object.create(ServerResponse.prototype));
}

/**
 * Serves one response whose prototype was replaced, held by `hold` with one
 * header (which installs the prototype interceptors, if no earlier test did),
 * and answers that header's value as the client got it.
 */
async function heldReprototyped(
  hold: typeof holdResponseUntil,
  [name, value]: readonly [string, string],
): Promise<string | null> {
  const url = await listen((_req, res) => {
    reprototype(res);
    hold(res, async () => [[name, value]]);
    res.end("held");
  });
  return (await fetch(url)).headers.get(name);
}

describe.each([
  ["a plain response", false],
  ["a response whose prototype was replaced (Express's)", true],
])("holdResponseUntil() on %s", (_kind, replaced) => {
  it("keeps a response wrapper installed after the hold, and calls through it once released", async () => {
    const store = mapStore();
    const sessions = createSessionManager<Data>({ store, secrets: [SECRET] });
    const seen: string[] = [];
    const url = await listen(async (req, res) => {
      if (replaced) reprototype(res);
      const session = await sessions.load(req);
      holdResponseUntil(res, async () => (await session.commit()).headers);
      // A later middleware (compression, say) wraps end() after the hold.
      const wrappedEnd = res.end;
      res.end = function (this: unknown, ...args: unknown[]) {
        seen.push("wrapper");
        return (wrappedEnd as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof res.end;
      session.set("visits", 1);
      res.write("a");
      // The first write commits and releases the hold; end() comes after.
      while (!res.headersSent) await new Promise((resolve) => setImmediate(resolve));
      res.end("b");
    });
    const response = await fetch(url);
    expect(await response.text()).toBe("ab");
    expect(seen).toEqual(["wrapper"]);
    expect(response.headers.getSetCookie()).toHaveLength(1);
  });

  it.each([
    {
      how: "rejects",
      beforeSend: async (): Promise<never> => {
        throw new SessionError(ErrorCode.CONFLICT, "lost a race (test)");
      },
      code: ErrorCode.CONFLICT,
      status: 409,
      text: "Conflict",
    },
    {
      how: "throws",
      beforeSend: (): never => {
        throw new SessionError(ErrorCode.STORE_UNAVAILABLE, "store down (test)");
      },
      code: ErrorCode.STORE_UNAVAILABLE,
      status: 503,
      text: "Service Unavailable",
    },
  ])(
    "a beforeSend that $how discards the queued response, answers bare and reports the error once",
    async ({ beforeSend, code, status, text }) => {
      const errors: unknown[] = [];
      const url = await listen((_req, res) => {
        if (replaced) reprototype(res);
        holdResponseUntil(res, beforeSend, (error) => errors.push(error));
        res.setHeader("Set-Cookie", "theme=dark; Path=/");
        res.setHeader("X-Handler", "yes");
        res.end("secret page content");
      });
      const response = await fetch(url);
      expect(response.status).toBe(status);
      expect(await response.text()).toBe(text);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(response.headers.get("x-handler")).toBeNull();
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(errors).toMatchObject([{ code }]);
    },
  );

  it("a held writeHead(status, headers) keeps the session cookie next to the handler's", async () => {
    const sessions = createSessionManager<Data>({ store: mapStore(), secrets: [SECRET] });
    const url = await listen(async (req, res) => {
      if (replaced) reprototype(res);
      const session = await sessions.load(req);
      holdResponseUntil(res, async () => (await session.commit()).headers);
      session.set("visits", 1);
      res.writeHead(201, { "Set-Cookie": "theme=dark; Path=/", "X-Handler": "yes" });
      res.end("created");
    });
    const response = await fetch(url);
    expect(response.status).toBe(201);
    expect(response.headers.get("x-handler")).toBe("yes");
    const cookies = response.headers.getSetCookie();
    expect(cookies).toContain("theme=dark; Path=/");
    expect(cookies.filter((cookie) => cookie.startsWith("__Host-sid="))).toHaveLength(1);
  });

  it("headers beforeSend returns as they are (no promise) go out within the call that sent the response", async () => {
    const sentAtEnd: boolean[] = [];
    const url = await listen((_req, res) => {
      if (replaced) reprototype(res);
      holdResponseUntil(res, () => [["X-Now", "1"]]);
      res.end("at once");
      sentAtEnd.push(res.headersSent);
    });
    const response = await fetch(url);
    expect(await response.text()).toBe("at once");
    expect(response.headers.get("x-now")).toBe("1");
    expect(sentAtEnd).toEqual([true]);
  });

  it("cancel() lets the response go out as the handler sends it, without beforeSend", async () => {
    const beforeSend = vi.fn(async () => []);
    const url = await listen((_req, res) => {
      if (replaced) reprototype(res);
      const hold = holdResponseUntil(res, beforeSend);
      expect(hold.cancel()).toBe(true);
      res.write("sent ");
      res.end("directly");
    });
    expect(await (await fetch(url)).text()).toBe("sent directly");
    expect(beforeSend).not.toHaveBeenCalled();
  });

  it("two holds on one response both run before the first byte, the later one first", async () => {
    const order: string[] = [];
    const url = await listen((_req, res) => {
      if (replaced) reprototype(res);
      holdResponseUntil(res, async () => {
        order.push("first hold");
        return [["X-First", "1"]];
      });
      holdResponseUntil(res, async () => {
        order.push("second hold");
        return [["X-Second", "2"]];
      });
      res.end("both");
    });
    const response = await fetch(url);
    expect(await response.text()).toBe("both");
    expect(response.headers.get("x-first")).toBe("1");
    expect(response.headers.get("x-second")).toBe("2");
    expect(order).toEqual(["second hold", "first hold"]);
  });
});

describe("holdResponseUntil() through ServerResponse.prototype", () => {
  it("adds no property to a response whose prototype was replaced", async () => {
    const sessions = createSessionManager<Data>({ store: mapStore(), secrets: [SECRET] });
    const added: PropertyKey[][] = [];
    const url = await listen(async (req, res) => {
      reprototype(res);
      const session = await sessions.load(req);
      const before = Reflect.ownKeys(res);
      holdResponseUntil(res, async () => (await session.commit()).headers);
      added.push(Reflect.ownKeys(res).filter((key) => !before.includes(key)));
      session.set("visits", 1);
      res.end("ok");
    });
    const response = await fetch(url);
    expect(cookieOf(response)).toMatch(/^__Host-sid=/);
    expect(added).toEqual([[]]);
  });

  it("stays held when the response's prototype is replaced again while held (leaving a sub-app)", async () => {
    const sessions = createSessionManager<Data>({ store: mapStore(), secrets: [SECRET] });
    const url = await listen(async (req, res) => {
      reprototype(res);
      const session = await sessions.load(req);
      holdResponseUntil(res, async () => (await session.commit()).headers);
      session.set("visits", 1);
      reprototype(res);
      res.end("ok");
    });
    const response = await fetch(url);
    expect(await response.text()).toBe("ok");
    expect(cookieOf(response)).toMatch(/^__Host-sid=/);
  });

  it("leaves responses without a hold as they were, whatever their prototype", async () => {
    expect(await heldReprototyped(holdResponseUntil, ["X-Held", "yes"])).toBe("yes");
    expect(ServerResponse.prototype.end).not.toBe(
      Object.getPrototypeOf(ServerResponse.prototype).end,
    );
    for (const replaced of [false, true]) {
      const url = await listen((_req, res) => {
        if (replaced) reprototype(res);
        res.writeHead(202, { "X-Plain": "yes" });
        res.flushHeaders();
        expect(res.write("not ")).toBe(true);
        res.end("held");
      });
      const response = await fetch(url);
      expect(response.status).toBe(202);
      expect(response.headers.get("x-plain")).toBe("yes");
      expect(response.headers.get("x-held")).toBeNull();
      expect(await response.text()).toBe("not held");
    }
  });

  it("a second copy of core in the process reuses the interceptors the first installed", async () => {
    expect(await heldReprototyped(holdResponseUntil, ["X-Copy", "first"])).toBe("first");
    const interceptors = [ServerResponse.prototype.writeHead, ServerResponse.prototype.end];
    // A fresh instance of the module, as a second installed version or a test
    // runner's per-file module instance would be.
    vi.resetModules();
    const copy = await import("@sessionkit/core/node");
    expect(copy.holdResponseUntil).not.toBe(holdResponseUntil);
    const added: PropertyKey[][] = [];
    const second = await listen((_req, res) => {
      reprototype(res);
      const before = Reflect.ownKeys(res);
      copy.holdResponseUntil(res, async () => [["X-Copy", "second"]]);
      added.push(Reflect.ownKeys(res).filter((key) => !before.includes(key)));
      res.end("two");
    });
    const response = await fetch(second);
    expect(await response.text()).toBe("two");
    expect(response.headers.get("x-copy")).toBe("second");
    expect(added).toEqual([[]]);
    expect([ServerResponse.prototype.writeHead, ServerResponse.prototype.end]).toEqual(
      interceptors,
    );
  });

  it("holds a response through its own methods when it has a wrapper of its own before the hold", async () => {
    const seen: string[] = [];
    const url = await listen((_req, res) => {
      reprototype(res);
      const end = res.end;
      res.end = function (this: unknown, ...args: unknown[]) {
        seen.push("wrapper");
        return (end as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof res.end;
      holdResponseUntil(res, async () => [["X-Held", "yes"]]);
      expect(Object.hasOwn(res, "write")).toBe(true);
      res.end("wrapped");
    });
    const response = await fetch(url);
    expect(await response.text()).toBe("wrapped");
    expect(response.headers.get("x-held")).toBe("yes");
    expect(seen).toEqual(["wrapper"]);
  });
});
