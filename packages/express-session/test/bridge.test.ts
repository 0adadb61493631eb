// express-session itself, in a real Express app over real sockets, on each of
// sessionkit's stores through createExpressSessionStore().
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Client, storeCases } from "@sessionkit/adapter-scenarios";
import type { SessionStore } from "@sessionkit/core";
import { iterateKeys, storeKeyOf } from "@sessionkit/core/store";
import express from "express";
import expressSession from "express-session";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createExpressSessionStore, type ExpressSessionStore } from "../src/index.js";

declare module "express-session" {
  interface SessionData {
    views: number;
    user: string;
  }
}

const SECRET = "express-session-bridge-test-secret";

interface Gate {
  readonly loaded: Promise<void>;
  open(): void;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function startApp(
  bridge: ExpressSessionStore,
  cookie: expressSession.CookieOptions = {},
): Promise<{ client: () => Client; gate: () => Gate; close: () => void }> {
  const app = express();
  app.use(
    expressSession({
      secret: SECRET,
      resave: false,
      saveUninitialized: false,
      store: bridge,
      cookie,
    }),
  );
  let pending: { loaded: () => void; open: Promise<void> } | undefined;
  app.get("/state", (req, res) => {
    res.json({ sid: req.sessionID, views: req.session.views ?? 0, user: req.session.user ?? null });
  });
  app.post("/visit", (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1;
    res.json({ sid: req.sessionID, views: req.session.views });
  });
  app.post("/login", (req, res, next) => {
    const views = req.session.views ?? 0;
    req.session.regenerate((error) => {
      if (error) return next(error);
      req.session.user = String(req.query.user);
      req.session.views = views;
      res.json({ sid: req.sessionID });
    });
  });
  app.post("/logout", (req, res, next) => {
    req.session.destroy((error) => (error ? next(error) : res.json({ ok: true })));
  });
  // Loads the session, then waits for the test before changing and saving it.
  app.post("/slow", async (req, res) => {
    const current = pending;
    if (current === undefined) throw new Error("no gate");
    current.loaded();
    await current.open;
    req.session.views = 99;
    res.json({ sid: req.sessionID });
  });
  const server: Server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    client: () => new Client(url),
    gate() {
      const loaded = deferred();
      const open = deferred();
      pending = { loaded: loaded.resolve, open: open.promise };
      return { loaded: loaded.promise, open: open.resolve };
    },
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function storedKeys(store: SessionStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of iterateKeys(store)) keys.push(key);
  return keys;
}

for (const storeCase of storeCases()) {
  describe(`express-session on ${storeCase.name}`, () => {
    let store: SessionStore;
    let bridge: ExpressSessionStore;
    let app: Awaited<ReturnType<typeof startApp>>;
    // The bridge's clock: steps forward only when a test moves it.
    let clock = Date.now();
    beforeAll(async () => {
      store = await storeCase.create();
      bridge = createExpressSessionStore(store, {
        userId: (session) => session.user,
        now: () => clock,
      });
      app = await startApp(bridge);
    });
    afterAll(async () => {
      app?.close();
      if (store !== undefined) await storeCase.dispose(store);
    });

    it("a first write creates the session and sets the cookie", async () => {
      const browser = app.client();
      const state = await browser.json<{ sid: string; views: number }>("GET", "/state");
      expect(browser.last?.headers.getSetCookie()).toEqual([]);
      expect(await store.get(storeKeyOf(state.sid))).toBeNull();
      const visit = await browser.json<{ sid: string; views: number }>("POST", "/visit");
      expect(visit.views).toBe(1);
      expect(browser.cookies.has("connect.sid")).toBe(true);
      expect(await store.get(storeKeyOf(visit.sid))).not.toBeNull();
    });

    it("the session persists across requests, keeping createdAt and bumping the version", async () => {
      const browser = app.client();
      const { sid } = await browser.json<{ sid: string }>("POST", "/visit");
      const first = await store.get(storeKeyOf(sid));
      await browser.json("POST", "/visit");
      expect(await browser.json("GET", "/state")).toMatchObject({ sid, views: 2 });
      const second = await store.get(storeKeyOf(sid));
      expect(second?.createdAt).toBe(first?.createdAt);
      expect(second?.version).toBeGreaterThan(first?.version ?? Number.POSITIVE_INFINITY);
    });

    it("the store holds the hash of the session id, never the id (A4)", async () => {
      const browser = app.client();
      const { sid } = await browser.json<{ sid: string }>("POST", "/visit");
      const keys = await storedKeys(store);
      expect(keys).toContain(storeKeyOf(sid));
      expect(keys).not.toContain(sid);
      for (const key of keys) expect(key).toMatch(/^[0-9a-f]{64}$/);
      const record = await store.get(storeKeyOf(sid));
      expect(record?.payload).not.toContain(sid);
    });

    it("regenerate() gives a new id, deletes the old record and keeps the owner index (A16, A21)", async () => {
      const browser = app.client();
      const { sid: before } = await browser.json<{ sid: string }>("POST", "/visit");
      const oldCookie = browser.cookieHeader;
      const user = `user-${Math.random().toString(36).slice(2)}`;
      const { sid: after } = await browser.json<{ sid: string }>("POST", `/login?user=${user}`);
      expect(after).not.toBe(before);
      expect(await store.get(storeKeyOf(before))).toBeNull();
      expect(await browser.json("GET", "/state")).toEqual({ sid: after, views: 1, user });
      const listed = (await store.listByUser?.(user)) ?? [];
      expect(listed.map((entry) => entry.key)).toEqual([storeKeyOf(after)]);
      const stale = await browser.request("GET", "/state", oldCookie);
      expect(await stale.json()).toMatchObject({ views: 0, user: null });
    });

    it("destroy() deletes the record; the old cookie gets a fresh session (A17)", async () => {
      const browser = app.client();
      const { sid } = await browser.json<{ sid: string }>("POST", "/visit");
      await browser.json("POST", "/logout");
      expect(await store.get(storeKeyOf(sid))).toBeNull();
      const state = await browser.json<{ sid: string; views: number }>("GET", "/state");
      expect(state.views).toBe(0);
      expect(state.sid).not.toBe(sid);
    });

    it("a save racing a logout never recreates the destroyed session (A18)", async () => {
      const browser = app.client();
      const { sid } = await browser.json<{ sid: string }>("POST", "/visit");
      const gate = app.gate();
      const slow = browser.request("POST", "/slow");
      await gate.loaded;
      await browser.json("POST", "/logout");
      gate.open();
      // express-session holds back the body's last byte until the save finished.
      expect(await (await slow).json()).toEqual({ sid });
      expect(await store.get(storeKeyOf(sid))).toBeNull();
      expect(await browser.json("GET", "/state")).toMatchObject({ views: 0 });
    });

    it("a save racing another save of the same session: the last writer wins", async () => {
      const browser = app.client();
      const { sid } = await browser.json<{ sid: string }>("POST", "/visit");
      const gate = app.gate();
      const slow = browser.request("POST", "/slow");
      await gate.loaded;
      await browser.json("POST", "/visit");
      gate.open();
      // express-session holds back the body's last byte until the save finished.
      expect(await (await slow).json()).toEqual({ sid });
      expect(await browser.json("GET", "/state")).toMatchObject({ sid, views: 99 });
    });

    it("an unchanged session is touched, not rewritten: its expiry moves by exactly the clock's step", async () => {
      const browser = app.client();
      const { sid } = await browser.json<{ sid: string }>("POST", "/visit");
      const before = await store.get(storeKeyOf(sid));
      expect(before?.expiresAt).toBe(clock + 86_400_000);
      clock += 60_000;
      await browser.json("GET", "/state");
      const after = await store.get(storeKeyOf(sid));
      expect(after?.version).toBe(before?.version);
      expect(after?.payload).toBe(before?.payload);
      expect(after?.expiresAt).toBe((before?.expiresAt ?? 0) + 60_000);
    });

    it("all(), length() and clear() see every session, by callback and by promise", async () => {
      await bridge.clear();
      const browsers = [app.client(), app.client(), app.client()];
      for (const browser of browsers) await browser.json("POST", "/visit");
      expect(await bridge.length()).toBe(3);
      const length = await new Promise<number | undefined>((resolve, reject) =>
        bridge.length((error, value) => (error ? reject(error) : resolve(value))),
      );
      expect(length).toBe(3);
      const all = await bridge.all();
      expect(all.map((session) => session.views)).toEqual([1, 1, 1]);
      await new Promise<void>((resolve, reject) =>
        bridge.clear((error) => (error ? reject(error) : resolve())),
      );
      expect(await bridge.length()).toBe(0);
      expect(await browsers[0]?.json("GET", "/state")).toMatchObject({ views: 0 });
    });

    it("get, set, destroy and touch work with callbacks as express-session calls them", async () => {
      const sid = `cb-${Math.random().toString(36).slice(2)}`;
      const expires = new Date(Date.now() + 3_600_000);
      const data = { cookie: { originalMaxAge: 3_600_000, expires, path: "/" }, views: 5 };
      await new Promise<void>((resolve, reject) =>
        bridge.set(sid, data as never, (error) => (error ? reject(error) : resolve())),
      );
      const loaded = await new Promise<unknown>((resolve, reject) =>
        bridge.get(sid, (error, session) => (error ? reject(error) : resolve(session))),
      );
      expect(loaded).toMatchObject({ views: 5, cookie: { expires: expires.toISOString() } });
      expect((await store.get(storeKeyOf(sid)))?.expiresAt).toBe(expires.getTime());
      const later = new Date(expires.getTime() + 60_000);
      await new Promise<void>((resolve, reject) =>
        bridge.touch(sid, { cookie: { expires: later } } as never, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
      expect((await store.get(storeKeyOf(sid)))?.expiresAt).toBe(later.getTime());
      expect(await bridge.get(sid)).toMatchObject({ cookie: { expires: later.toISOString() } });
      await new Promise<void>((resolve, reject) =>
        bridge.destroy(sid, (error) => (error ? reject(error) : resolve())),
      );
      expect(await bridge.get(sid)).toBeNull();
    });

    it("touch() never recreates a missing session (A18)", async () => {
      const sid = `gone-${Math.random().toString(36).slice(2)}`;
      await bridge.touch(sid, { cookie: { expires: new Date(Date.now() + 60_000) } } as never);
      expect(await store.get(storeKeyOf(sid))).toBeNull();
    });

    it("a cookie expiry in the past stores nothing", async () => {
      const sid = `past-${Math.random().toString(36).slice(2)}`;
      await bridge.set(sid, { cookie: { expires: new Date(Date.now() - 1000) } } as never);
      expect(await bridge.get(sid)).toBeNull();
    });
  });
}

describe("record expiry", () => {
  const running: { close(): void }[] = [];
  afterEach(() => {
    for (const app of running.splice(0)) app.close();
  });

  it("expiresAt follows cookie.expires when the cookie has a maxAge", async () => {
    const [memory] = storeCases();
    const store = await (memory as NonNullable<typeof memory>).create();
    const app = await startApp(createExpressSessionStore(store), { maxAge: 3_600_000 });
    running.push(app);
    const before = Date.now();
    const { sid } = await app.client().json<{ sid: string }>("POST", "/visit");
    const after = Date.now();
    const record = await store.get(storeKeyOf(sid));
    expect(record?.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(record?.expiresAt).toBeLessThanOrEqual(after + 3_600_000);
  });

  it("expiresAt is now + ttlMs for a browser-session cookie, and a request touches it", async () => {
    const { createMemoryStore } = await import("@sessionkit/store-memory");
    let clock = 1_000_000;
    const now = () => clock;
    const store = createMemoryStore({ now, gcIntervalMs: false });
    const app = await startApp(createExpressSessionStore(store, { ttlMs: 60_000, now }));
    running.push(app);
    const browser = app.client();
    const { sid } = await browser.json<{ sid: string }>("POST", "/visit");
    expect((await store.get(storeKeyOf(sid)))?.expiresAt).toBe(1_060_000);
    clock += 40_000;
    expect(await browser.json("GET", "/state")).toMatchObject({ sid, views: 1 });
    expect((await store.get(storeKeyOf(sid)))?.expiresAt).toBe(1_100_000);
    clock += 40_000; // 80 s after creation, 40 s after the touch: alive.
    expect(await browser.json("GET", "/state")).toMatchObject({ sid, views: 1 });
    clock += 60_001; // idle longer than ttlMs: gone.
    expect(await browser.json("GET", "/state")).toMatchObject({ views: 0 });
  });
});
