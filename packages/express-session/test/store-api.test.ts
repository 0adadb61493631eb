// The Store methods called directly, on the memory store and on stores lacking
// optional capabilities.
import { promisify } from "node:util";
import type { SessionStore } from "@sessionkit/core";
import { defineCapabilities, storeKeyOf } from "@sessionkit/core/store";
import { createMemoryStore } from "@sessionkit/store-memory";
import { createSqliteStore } from "@sessionkit/store-sqlite";
import type { SessionData } from "express-session";
import { describe, expect, it } from "vitest";
import { createExpressSessionStore, type ExpressSessionStore } from "../src/index.js";

const HOUR = 3_600_000;

function sessionData(extra: Record<string, unknown> = {}): SessionData {
  return {
    cookie: { originalMaxAge: HOUR, expires: new Date(Date.now() + HOUR), path: "/" },
    ...extra,
  } as unknown as SessionData;
}

/** A store with only the required methods: every optional capability off. */
function basicStore(inner: SessionStore): SessionStore {
  return {
    name: "basic",
    capabilities: defineCapabilities({}),
    get: (key) => inner.get(key),
    set: (key, record, options) => inner.set(key, record, options),
    destroy: (key) => inner.destroy(key),
  };
}

/** express-session's own Session object for `sid`, loaded through the store. */
async function load(bridge: ExpressSessionStore, sid: string) {
  const loaded = await promisify(bridge.load.bind(bridge))(sid);
  if (loaded === undefined) throw new Error(`no session ${sid}`);
  return loaded as unknown as SessionData & { views?: number };
}

let counter = 0;
const newSid = () => `sid-${++counter}-${Math.random().toString(36).slice(2)}`;

describe("createExpressSessionStore(store, options)", () => {
  it("rejects something that is not a sessionkit store with INVALID_CONFIG", () => {
    expect(() => createExpressSessionStore({} as SessionStore)).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG", store: "express-session" }),
    );
  });

  it.each([
    ["ttlMs", { ttlMs: 0 }, /ttlMs must be a whole number of at least 1 \(got 0\)/],
    ["ttlMs", { ttlMs: 1.5 }, /ttlMs must be a whole number of at least 1 \(got 1\.5\)/],
    ["maxPayloadBytes", { maxPayloadBytes: -1 }, /maxPayloadBytes must be a whole number/],
    ["pageSize", { pageSize: 0 }, /pageSize must be a whole number/],
    ["pageSize", { pageSize: 1001 }, /pageSize must be at most 1000 \(got 1001\)/],
    ["userId", { userId: "user" }, /userId must be a function/],
    ["now", { now: 5 }, /now must be a function/],
  ])("rejects a bad %s option with INVALID_CONFIG: %o", (_name, options, message) => {
    const store = createMemoryStore({ gcIntervalMs: false });
    expect(() => createExpressSessionStore(store, options as never)).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG", message: expect.stringMatching(message) }),
    );
  });

  it("calls now() at save time, never at construction", async () => {
    const store = createMemoryStore({ gcIntervalMs: false });
    const start = Date.now();
    let clock = start;
    const bridge = createExpressSessionStore(store, { ttlMs: HOUR, now: () => clock });
    clock = start + 60_000;
    const sid = newSid();
    await bridge.set(sid, { cookie: {} } as unknown as SessionData);
    const record = await store.get(storeKeyOf(sid));
    expect(record?.createdAt).toBe(start + 60_000);
    expect(record?.expiresAt).toBe(start + 60_000 + HOUR);
  });

  it("is an express-session Store", async () => {
    const { Store } = await import("express-session");
    expect(createExpressSessionStore(createMemoryStore())).toBeInstanceOf(Store);
  });
});

describe("set(sid, session)", () => {
  it("a late save of a session loaded before a destroy does not recreate it (A18)", async () => {
    const store = createMemoryStore();
    const bridge = createExpressSessionStore(store);
    const sid = newSid();
    await bridge.set(sid, sessionData({ views: 1 }));
    const late = await load(bridge, sid);
    await bridge.destroy(sid);
    late.views = 2;
    await bridge.set(sid, late);
    expect(await store.get(storeKeyOf(sid))).toBeNull();
  });

  it("two saves of one session loaded twice: the last writer wins, createdAt is kept", async () => {
    const store = createMemoryStore();
    const bridge = createExpressSessionStore(store);
    const sid = newSid();
    await bridge.set(sid, sessionData({ views: 1 }));
    const createdAt = (await store.get(storeKeyOf(sid)))?.createdAt;
    const first = await load(bridge, sid);
    const second = await load(bridge, sid);
    first.views = 2;
    await bridge.set(sid, first);
    second.views = 3;
    await bridge.set(sid, second);
    const record = await store.get(storeKeyOf(sid));
    expect(JSON.parse(record?.payload ?? "{}").views).toBe(3);
    expect(record?.createdAt).toBe(createdAt);
    expect(record?.version).toBe(3);
  });

  it("a larger session than maxPayloadBytes fails with PAYLOAD_TOO_LARGE and writes nothing (A28)", async () => {
    const store = createMemoryStore();
    const bridge = createExpressSessionStore(store, { maxPayloadBytes: 1024 });
    const sid = newSid();
    await expect(bridge.set(sid, sessionData({ blob: "x".repeat(2000) }))).rejects.toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
    });
    expect(await store.get(storeKeyOf(sid))).toBeNull();
  });

  it("a session JSON cannot hold fails with INVALID_DATA, by promise and by callback (A27)", async () => {
    const bridge = createExpressSessionStore(createMemoryStore());
    const sid = newSid();
    await expect(bridge.set(sid, sessionData({ big: 1n }))).rejects.toMatchObject({
      code: "INVALID_DATA",
    });
    const error = await new Promise((resolve) =>
      bridge.set(sid, sessionData({ big: 1n }), (err) => resolve(err)),
    );
    expect(error).toMatchObject({ code: "INVALID_DATA" });
  });

  it("feeds userId(session) to the store's per-user index (A21)", async () => {
    const store = createMemoryStore();
    const bridge = createExpressSessionStore(store, {
      userId: (session) => (session as { user?: string }).user,
    });
    const [sid, anonymous] = [newSid(), newSid()];
    await bridge.set(sid, sessionData({ user: "ann" }));
    await bridge.set(anonymous, sessionData());
    expect((await store.listByUser?.("ann"))?.map((entry) => entry.key)).toEqual([storeKeyOf(sid)]);
    expect((await store.get(storeKeyOf(anonymous)))?.userId).toBeUndefined();
  });
});

describe("get(sid)", () => {
  it("a corrupt record is no session, not an error (A29)", async () => {
    const store = createMemoryStore();
    const bridge = createExpressSessionStore(store);
    const sid = newSid();
    const record = {
      payload: "{not json",
      expiresAt: Date.now() + HOUR,
      createdAt: Date.now(),
      version: 1,
    };
    await store.set(storeKeyOf(sid), record, { ifVersion: 0 });
    expect(await bridge.get(sid)).toBeNull();
    await store.set(storeKeyOf(sid), { ...record, payload: "[1,2]", version: 2 }, { ifVersion: 1 });
    expect(await bridge.get(sid)).toBeNull();
  });

  it("a store failure reaches the callback and the promise as the store's typed error (A30)", async () => {
    const down = createSqliteStore({ url: "sqlite::memory:", gcIntervalMs: false });
    await down.close();
    const bridge = createExpressSessionStore(down);
    await expect(bridge.get(newSid())).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    const error = await new Promise((resolve) => bridge.get(newSid(), (err) => resolve(err)));
    expect(error).toMatchObject({ code: "STORE_UNAVAILABLE" });
  });
});

describe("a store without the optional capabilities", () => {
  it("all(), length() and clear() fail with UNSUPPORTED", async () => {
    const bridge = createExpressSessionStore(basicStore(createMemoryStore()));
    await expect(bridge.all()).rejects.toMatchObject({ code: "UNSUPPORTED" });
    await expect(bridge.length()).rejects.toMatchObject({ code: "UNSUPPORTED" });
    await expect(bridge.clear()).rejects.toMatchObject({ code: "UNSUPPORTED" });
    const error = await new Promise((resolve) => bridge.all((err) => resolve(err)));
    expect(error).toMatchObject({ code: "UNSUPPORTED" });
  });

  it("touch() extends the expiry by a conditional rewrite, keeping the data", async () => {
    const inner = createMemoryStore();
    const bridge = createExpressSessionStore(basicStore(inner));
    const sid = newSid();
    await bridge.set(sid, sessionData({ views: 4 }));
    const before = await inner.get(storeKeyOf(sid));
    const later = new Date(Date.now() + 2 * HOUR);
    await bridge.touch(sid, { cookie: { expires: later } } as unknown as SessionData);
    const after = await inner.get(storeKeyOf(sid));
    expect(after?.expiresAt).toBe(later.getTime());
    expect(after?.payload).toBe(before?.payload);
    expect(after?.createdAt).toBe(before?.createdAt);
  });

  it("touch() never shortens and never recreates (A18, A20)", async () => {
    const inner = createMemoryStore();
    const bridge = createExpressSessionStore(basicStore(inner));
    const sid = newSid();
    await bridge.set(sid, sessionData());
    const before = await inner.get(storeKeyOf(sid));
    await bridge.touch(sid, {
      cookie: { expires: new Date(Date.now() + 1000) },
    } as unknown as SessionData);
    expect((await inner.get(storeKeyOf(sid)))?.expiresAt).toBe(before?.expiresAt);
    const missing = newSid();
    await bridge.touch(missing, sessionData());
    expect(await inner.get(storeKeyOf(missing))).toBeNull();
  });
});
