// core's own HTTP helpers: createNodeHandler and holdResponseUntil
// (@sessionkit/core/node), withSession (@sessionkit/core). The commit rule
// is the adapters' one: commit unless the handler threw (A25).
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createSessionManager,
  ErrorCode,
  SessionError,
  type SessionStore,
  withSession,
} from "@sessionkit/core";
import { createNodeHandler, holdResponseUntil } from "@sessionkit/core/node";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SECRET } from "./helpers.js";
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

describe("holdResponseUntil()", () => {
  it("keeps a response wrapper installed after the hold, and calls through it once released", async () => {
    const store = mapStore();
    const sessions = createSessionManager<Data>({ store, secrets: [SECRET] });
    const seen: string[] = [];
    const url = await listen(async (req, res) => {
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

  it("a failed beforeSend discards the queued response, answers bare and reports the error once", async () => {
    const errors: unknown[] = [];
    const url = await listen((_req, res) => {
      holdResponseUntil(
        res,
        async () => {
          throw new SessionError(ErrorCode.CONFLICT, "lost a race (test)");
        },
        (error) => errors.push(error),
      );
      res.setHeader("Set-Cookie", "theme=dark; Path=/");
      res.setHeader("X-Handler", "yes");
      res.end("secret page content");
    });
    const response = await fetch(url);
    expect(response.status).toBe(409);
    expect(await response.text()).toBe("Conflict");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("x-handler")).toBeNull();
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(errors).toMatchObject([{ code: ErrorCode.CONFLICT }]);
  });
});
