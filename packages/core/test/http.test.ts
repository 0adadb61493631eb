import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createNodeHandler,
  createSessionManager,
  ErrorCode,
  holdResponseUntil,
  SessionError,
  type SessionStore,
  withSession,
} from "@sessionkit/core";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryStore } from "../../store-memory/src/index.js";
import { SECRET } from "./helpers.js";

interface Data {
  visits: number;
  [key: string]: unknown;
}

const servers: Server[] = [];
afterEach(async () => {
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
        store: "memory",
        operation: "set",
      });
    },
  });
}

function cookieOf(response: Response): string {
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith("__Host-sid="));
  if (setCookie === undefined) throw new Error("no session cookie");
  return setCookie.slice(0, setCookie.indexOf(";"));
}

describe("createNodeHandler()", () => {
  it("commits before the response is sent and keeps the handler's own cookies (A10, A24)", async () => {
    const store = createMemoryStore({ sweepIntervalMs: false });
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
    expect(cookies.some((c) => c.startsWith("theme=dark"))).toBe(true);
    expect(cookies.some((c) => c.startsWith("lang=en"))).toBe(true);
    expect(first.headers.get("cache-control")).toBe("no-store");
    expect(first.headers.get("vary")).toBe("Cookie");
    const second = await fetch(url, { headers: { cookie: cookieOf(first) } });
    expect(await second.text()).toBe("visit 2");
    expect(await store.count()).toBe(1);
  });

  it("a failed save turns into a bare 503 and none of the handler's response is sent (A24, A39)", async () => {
    const sessions = createSessionManager<Data>({
      store: failingWrites(createMemoryStore({ sweepIntervalMs: false })),
      secrets: [SECRET],
    });
    const url = await listen(
      createNodeHandler(sessions, (_req, res, session) => {
        session.set("visits", 1);
        res.setHeader("X-Handler", "yes");
        res.end("secret page content");
      }),
    );
    const response = await fetch(url);
    expect(response.status).toBe(503);
    const body = await response.text();
    expect(body).toBe("Service Unavailable");
    expect(response.headers.get("x-handler")).toBeNull();
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("a handler that throws saves nothing and answers 500 without a stack trace (A25, A39)", async () => {
    const store = createMemoryStore({ sweepIntervalMs: false });
    const sessions = createSessionManager<Data>({ store, secrets: [SECRET] });
    const url = await listen(
      createNodeHandler(sessions, async (_req, _res, session) => {
        session.set("visits", 42);
        throw new Error("handler bug at /srv/app.js:10");
      }),
    );
    const response = await fetch(url);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect(await store.count()).toBe(0);
  });
});

describe("withSession()", () => {
  it("adds the session headers to the handler's response, even when its headers are immutable", async () => {
    const store = createMemoryStore({ sweepIntervalMs: false });
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
    const [key] = (await store.keys()).keys;
    expect(JSON.parse((await store.get(key as string))?.payload ?? "{}")).toEqual({
      d: { visits: 2 },
    });
  });

  it("a failed save gives a 503 response instead of the handler's", async () => {
    const sessions = createSessionManager<Data>({
      store: failingWrites(createMemoryStore({ sweepIntervalMs: false })),
      secrets: [SECRET],
    });
    const handle = withSession(sessions, (_request, session) => {
      session.set("visits", 1);
      return new Response("ok");
    });
    const response = await handle(new Request("https://example.test/"));
    expect(response.status).toBe(503);
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe("holdResponseUntil()", () => {
  it("keeps a response wrapper installed after the hold, and calls through it once released", async () => {
    const store = createMemoryStore({ sweepIntervalMs: false });
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
      // The first write committed and released the hold; end() comes later.
      await new Promise((resolve) => setTimeout(resolve, 50));
      res.end("b");
    });
    const response = await fetch(url);
    expect(await response.text()).toBe("ab");
    expect(seen).toEqual(["wrapper"]);
    expect(response.headers.getSetCookie()).toHaveLength(1);
  });
});
