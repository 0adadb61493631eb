import { createSessionManager, ErrorCode } from "@sessionkit/core";
import {
  defineCapabilities,
  defineStore,
  type SessionRecord,
  type SessionStore,
  storeKeyOf,
} from "@sessionkit/core/store";
import { describe, expect, it } from "vitest";
import { createTokenSigner, generateSessionId, prepareSecrets } from "../src/signing.js";
import { countingStore, harness, SECRET } from "./helpers.js";

// The edges of the core promise: no resurrection, no silent loss, fail closed
// on whatever a store hands back (checklist A8, A15, A18, A20, A29, A30, A13).

interface Data {
  count: number;
  role: string;
  y: string;
  [key: string]: unknown;
}

type H = ReturnType<typeof harness<Data>>;

async function signedIn(h: H, data: Partial<Data> = { count: 1 }) {
  const session = await h.sessions.load(h.request());
  for (const [key, value] of Object.entries(data)) session.set(key, value);
  const result = await session.commit();
  return { cookie: h.cookieFrom(result.headers), result };
}

const setCookies = (headers: readonly (readonly [string, string])[]) =>
  headers.filter(([name]) => name === "Set-Cookie").map(([, value]) => value);

/** A cookie validly signed with the harness secret for an id that names no session. */
function unknownButSigned(): string {
  const signer = createTokenSigner("__Host-sid", prepareSecrets([SECRET]));
  return `__Host-sid=${signer.sign(generateSessionId())}`;
}

describe("a dropped commit closes the session (A18)", () => {
  it("a write whose session was destroyed meanwhile rejects with CONFLICT (409); later commits create nothing and issue no token", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    const write = await h.sessions.load(h.request(cookie));
    const logout = await h.sessions.load(h.request(cookie));
    logout.destroy();
    await logout.commit();

    write.set("role", "admin");
    await expect(write.commit()).rejects.toMatchObject({
      code: ErrorCode.CONFLICT,
      httpStatus: 409,
    });
    // The adapters commit again when the handler already did: still nothing.
    expect(await write.commit()).toEqual({ outcome: "dropped", headers: [["Vary", "Cookie"]] });
    expect(() => write.set("role", "admin")).toThrow(
      expect.objectContaining({ code: ErrorCode.SESSION_CLOSED }),
    );
    expect(() => write.regenerate()).toThrow(
      expect.objectContaining({ code: ErrorCode.SESSION_CLOSED }),
    );
    expect(write.exportToken()).toBeNull();
    expect(await write.commit()).toEqual({ outcome: "dropped", headers: [["Vary", "Cookie"]] });
    expect(await h.store.count?.()).toBe(0);
    expect(h.events.filter((event) => event.type === "dropped")).toHaveLength(1);
  });

  it("a write whose session expired meanwhile rejects with CONFLICT and never recreates it", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    const write = await h.sessions.load(h.request(cookie));
    h.clock.advance(31 * 60_000);
    write.set("count", 2);
    await expect(write.commit()).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
    expect((await write.commit()).outcome).toBe("dropped");
    expect(await h.store.count?.()).toBe(0);
  });

  it("a write whose session passed its absolute deadline meanwhile (by this manager's clock) is dropped, not merged", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    const write = await h.sessions.load(h.request(cookie));
    // Another process with a longer absolute timeout wrote the record meanwhile.
    const [key] = (await h.store.keys?.())?.keys ?? [];
    const record = (await h.store.get(key as string)) as SessionRecord;
    await h.store.set(
      key as string,
      { ...record, createdAt: h.clock.now() - 25 * 3_600_000, version: 2 },
      { ifVersion: 1 },
    );
    write.set("role", "admin");
    await expect(write.commit()).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
    expect((await h.store.get(key as string))?.payload).toBe(record.payload);
  });

  it("a write racing regenerate() fails with CONFLICT, sends no cookie, and the old token never reaches the new session", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { role: "guest" });
    const write = await h.sessions.load(h.request(cookie));
    const login = await h.sessions.load(h.request(cookie));
    login.regenerate().set("role", "user");
    const newCookie = h.cookieFrom((await login.commit()).headers);

    write.set("y", "from the old token");
    await expect(write.commit()).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
    // No response of the old request may delete the cookie the regenerate issued.
    expect(setCookies((await write.commit()).headers)).toEqual([]);

    const fresh = await h.sessions.load(h.request(newCookie));
    expect(fresh.toJSON()).toEqual({ role: "user" });
    expect((await h.sessions.load(h.request(cookie))).isNew).toBe(true);
    expect(await h.store.count?.()).toBe(1);
  });

  it("regenerate() over a store without rename claims the old record first, so a logout meanwhile wins", async () => {
    const inner = harness<Data>().store;
    const { rename: _rename, ...rest } = inner;
    const withoutRename: SessionStore = Object.assign(Object.create(null), rest, {
      capabilities: defineCapabilities({ ...inner.capabilities, rename: false }),
      get: inner.get.bind(inner),
      set: inner.set.bind(inner),
      destroy: inner.destroy.bind(inner),
      count: inner.count?.bind(inner),
    });
    const h = harness<Data>({ store: countingStore(withoutRename) });
    const { cookie } = await signedIn(h);
    const login = await h.sessions.load(h.request(cookie));
    const logout = await h.sessions.load(h.request(cookie));
    logout.destroy();
    await logout.commit();
    login.regenerate();
    await expect(login.commit()).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
    expect(await inner.count?.()).toBe(0);

    // And without a race it moves the session: the old token loads nothing.
    const { cookie: second } = await signedIn(h, { role: "a" });
    const moved = await h.sessions.load(h.request(second));
    moved.regenerate();
    const next = h.cookieFrom((await moved.commit()).headers);
    expect((await h.sessions.load(h.request(second))).isNew).toBe(true);
    expect((await h.sessions.load(h.request(next))).get("role")).toBe("a");
    expect(await inner.count?.()).toBe(1);
  });
});

describe("a store without touch (the path third-party stores take)", () => {
  function withoutTouch() {
    const inner = harness<Data>().store;
    const store: SessionStore = {
      name: "no-touch",
      capabilities: defineCapabilities({ ...inner.capabilities, touch: false }),
      get: inner.get.bind(inner),
      set: inner.set.bind(inner),
      destroy: inner.destroy.bind(inner),
    };
    return { inner, store: countingStore(store) };
  }

  it("an unchanged session is kept alive by a compare-and-set write, once per touchAfterMs", async () => {
    const { store } = withoutTouch();
    const h = harness<Data>({ store, touchAfterMs: 60_000 });
    const { cookie } = await signedIn(h);
    h.clock.advance(2 * 60_000);
    store.reset();
    const session = await h.sessions.load(h.request(cookie));
    expect((await session.commit()).outcome).toBe("touched");
    expect(store.calls).toEqual({ get: 1, set: 1 });
    expect(session.expiresAt).toBe(h.clock.now() + 30 * 60_000);
    h.clock.advance(29 * 60_000);
    expect((await h.sessions.load(h.request(cookie))).get("count")).toBe(1);
  });

  it("that write never resurrects a session destroyed meanwhile", async () => {
    const { inner, store } = withoutTouch();
    const h = harness<Data>({ store, touchAfterMs: 60_000 });
    const { cookie } = await signedIn(h);
    h.clock.advance(2 * 60_000);
    const reader = await h.sessions.load(h.request(cookie));
    const logout = await h.sessions.load(h.request(cookie));
    await logout.destroy().commit();
    expect((await reader.commit()).outcome).toBe("unchanged");
    expect(await inner.count?.()).toBe(0);
  });
});

describe("no Set-Cookie for cookies that name nothing (A15)", () => {
  it("1,000 requests with bogus cookies get no Set-Cookie and cost no store read", async () => {
    const h = harness<Data>();
    let sent = 0;
    for (let i = 0; i < 1_000; i++) {
      const bogus = `__Host-sid=${i.toString(36).padStart(43, "x")}.${"A".repeat(43)}`;
      const session = await h.sessions.load(h.request(bogus));
      sent += setCookies((await session.commit()).headers).length;
    }
    expect(sent).toBe(0);
    expect(h.store.calls).toEqual({});
  });

  it("unknown, expired and corrupt sessions' cookies get no Set-Cookie", async () => {
    const h = harness<Data>();
    const unknown = unknownButSigned();
    const { cookie: expired } = await signedIn(h);
    h.clock.advance(31 * 60_000);
    const { cookie: corrupt } = await signedIn(h);
    const [key] = (await h.store.keys?.())?.keys ?? [];
    const record = (await h.store.get(key as string)) as SessionRecord;
    await h.store.set(
      key as string,
      { ...record, payload: "not ours", version: 2 },
      { ifVersion: 1 },
    );
    for (const cookie of [unknown, expired, corrupt]) {
      const session = await h.sessions.load(h.request(cookie));
      expect(session.isNew).toBe(true);
      expect(await session.commit()).toEqual({
        outcome: "unchanged",
        headers: [["Vary", "Cookie"]],
      });
    }
  });

  it("destroy() of an anonymous session sends no Set-Cookie", async () => {
    const h = harness<Data>();
    const session = await h.sessions.load(h.request(unknownButSigned()));
    session.destroy();
    expect(setCookies((await session.commit()).headers)).toEqual([]);
  });
});

describe("duplicate cookies (A8)", () => {
  it("a validly signed unknown cookie in front never masks the victim's session", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { role: "victim" });
    const session = await h.sessions.load(h.request(`${unknownButSigned()}; ${cookie}`));
    expect(session.get("role")).toBe("victim");
    expect(setCookies((await session.commit()).headers)).toEqual([]);
  });

  it("at most three validly signed candidates are looked up", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { role: "victim" });
    h.store.reset();
    const front = Array.from({ length: 3 }, unknownButSigned).join("; ");
    const session = await h.sessions.load(h.request(`${front}; ${cookie}`));
    expect(session.isNew).toBe(true);
    expect(h.store.calls).toEqual({ get: 3 });
  });
});

/** A hand-written store over a Map that hands back whatever was put in it. */
function rawStore(entries: Map<string, unknown>) {
  const destroyed: string[] = [];
  const store: SessionStore = {
    name: "raw",
    capabilities: defineCapabilities({}),
    get: async (key) => (entries.get(key) ?? null) as SessionRecord | null,
    set: async () => true,
    destroy: async (key) => {
      destroyed.push(key);
      entries.delete(key);
    },
  };
  return { store, destroyed };
}

describe("corrupt or foreign records are deleted (A29)", () => {
  const now = Date.now();
  const base = { expiresAt: now + 60_000, createdAt: now - 1_000, version: 1 };
  const deep = (levels: number) => `{"d":{"x":${"[".repeat(levels)}${"]".repeat(levels)}}}`;
  const cases: [string, unknown][] = [
    ["a payload that is not JSON", { ...base, payload: "not json" }],
    ["a null payload", { ...base, payload: "null" }],
    ["an array payload", { ...base, payload: "[]" }],
    ["an envelope without data", { ...base, payload: '{"x":1}' }],
    ["a 50 MB payload", { ...base, payload: `{"d":{"x":"${"a".repeat(50 * 1024 * 1024)}"}}` }],
    ["100,000 levels of nesting", { ...base, payload: deep(100_000) }],
    ["20,000 levels of nesting (under the size limit)", { ...base, payload: deep(20_000) }],
    ["missing timestamps", { payload: '{"d":{}}', version: 1 }],
    ["an absurd expiry", { ...base, expiresAt: now + 1000 * 365 * 24 * 3600 * 1000 }],
    ["a version of 0", { ...base, payload: '{"d":{}}', version: 0 }],
    ["an empty object from get()", {}],
    ["a string from get()", "a string"],
    ["a number from get()", 42],
  ];
  for (const [what, value] of cases) {
    it(`${what}: no session, a corrupt-record event, and the record is deleted`, async () => {
      const id = generateSessionId();
      const key = storeKeyOf(id);
      const { store, destroyed } = rawStore(new Map([[key, value]]));
      const events: string[] = [];
      const sessions = createSessionManager({
        store,
        secrets: [SECRET],
        maxPayloadBytes: 64 * 1024,
        onEvent: (event) => events.push(event.type),
      });
      const token = createTokenSigner("__Host-sid", prepareSecrets([SECRET])).sign(id);
      const session = await sessions.load(new Headers({ cookie: `__Host-sid=${token}` }));
      expect(session.isNew).toBe(true);
      expect(events).toEqual(["corrupt-record"]);
      expect(destroyed).toEqual([key]);
      expect(setCookies((await session.commit()).headers)).toEqual([]);
    });
  }
});

describe("persistent cookies (A20)", () => {
  it("with cookie.maxAgeMs 10 minutes and a 30-minute idle timeout, the token loads nothing 11 minutes later", async () => {
    const h = harness<Data>({ cookie: { maxAgeMs: 10 * 60_000 } });
    const { cookie, result } = await signedIn(h);
    expect(setCookies(result.headers)[0]).toContain("Max-Age=600;");
    h.clock.advance(9 * 60_000);
    expect((await h.sessions.load(h.request(cookie))).get("count")).toBe(1);
    h.clock.advance(2 * 60_000);
    expect((await h.sessions.load(h.request(cookie))).isNew).toBe(true);
  });

  it("activity moves the record's end and the cookie's together", async () => {
    const h = harness<Data>({ cookie: { maxAgeMs: 10 * 60_000 }, touchAfterMs: 60_000 });
    const { cookie } = await signedIn(h);
    h.clock.advance(5 * 60_000);
    const session = await h.sessions.load(h.request(cookie));
    const { outcome, headers } = await session.commit();
    expect(outcome).toBe("touched");
    expect(setCookies(headers)[0]).toContain("Max-Age=600;");
    h.clock.advance(9 * 60_000);
    expect((await h.sessions.load(h.request(cookie))).get("count")).toBe(1);
    h.clock.advance(2 * 60_000);
    expect((await h.sessions.load(h.request(cookie))).isNew).toBe(true);
  });

  it("a write re-issues the cookie when it moves the record's end, and only then", async () => {
    const h = harness<Data>({ cookie: { maxAgeMs: 10 * 60_000 }, touchAfterMs: 60_000 });
    const { cookie } = await signedIn(h);
    const write = async () => {
      const session = await h.sessions.load(h.request(cookie));
      session.set("count", (session.get("count") ?? 0) + 1);
      const { outcome, headers } = await session.commit();
      expect(outcome).toBe("updated");
      return setCookies(headers);
    };
    h.clock.advance(30_000);
    // The record's end stays: the cookie the browser holds already covers it.
    expect(await write()).toEqual([]);
    h.clock.advance(30_000);
    const [reissued] = await write();
    expect(reissued).toContain("Max-Age=600;");
    h.clock.advance(9 * 60_000);
    expect((await h.sessions.load(h.request(cookie))).get("count")).toBe(3);
    h.clock.advance(60_000);
    expect((await h.sessions.load(h.request(cookie))).isNew).toBe(true);
  });
});

describe("core puts a deadline on every store call (A30)", () => {
  function managerOver(get: SessionStore["get"], storeTimeoutMs = 100) {
    const events: string[] = [];
    const store: SessionStore = {
      name: "custom",
      capabilities: defineCapabilities({}),
      get,
      set: async () => true,
      destroy: async () => {},
    };
    const sessions = createSessionManager({
      store,
      secrets: [SECRET],
      storeTimeoutMs,
      onEvent: (event) => events.push(`${event.type}${event.code ? `:${event.code}` : ""}`),
    });
    return { sessions, events, headers: new Headers({ cookie: unknownButSigned() }) };
  }

  it("a get that never settles fails with STORE_TIMEOUT (503) within storeTimeoutMs", async () => {
    const { sessions, events, headers } = managerOver(() => new Promise(() => {}));
    await expect(sessions.load(headers)).rejects.toMatchObject({
      code: ErrorCode.STORE_TIMEOUT,
      httpStatus: 503,
      message: expect.stringContaining("storeTimeoutMs"),
    });
    expect(events).toEqual(["store-error:STORE_TIMEOUT"]);
  });

  it("a late answer after the deadline is ignored, even a late failure", async () => {
    let fail: (error: Error) => void = () => {};
    const { sessions, events, headers } = managerOver(
      () => new Promise((_resolve, reject) => (fail = reject)),
      50,
    );
    await expect(sessions.load(headers)).rejects.toMatchObject({ code: ErrorCode.STORE_TIMEOUT });
    // Vitest fails the run on an unhandled rejection: this one must be absorbed.
    fail(new Error("too late"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(["store-error:STORE_TIMEOUT"]);
  });

  it("a get that throws synchronously or rejects fails with STORE_ERROR", async () => {
    for (const get of [
      (): Promise<SessionRecord | null> => {
        throw new Error("boom");
      },
      () => Promise.reject(new Error("boom")),
    ]) {
      const { sessions, headers } = managerOver(get);
      await expect(sessions.load(headers)).rejects.toMatchObject({
        code: ErrorCode.STORE_ERROR,
        httpStatus: 500,
      });
    }
  });

  function slowStore(operationTimeoutMs: number | false, answerAfterMs?: number) {
    return defineStore({
      name: "hung",
      operationTimeoutMs,
      backend: {
        get: () =>
          new Promise<null>((resolve) => {
            if (answerAfterMs !== undefined) setTimeout(() => resolve(null), answerAfterMs);
          }),
        set: async () => true,
        destroy: async () => {},
      },
    });
  }

  it("a defineStore store with a shorter own deadline times out by itself: one STORE_TIMEOUT, its own", async () => {
    const events: string[] = [];
    const sessions = createSessionManager({
      store: slowStore(50),
      secrets: [SECRET],
      storeTimeoutMs: 5_000,
      onEvent: (event) => events.push(`${event.type}${event.code ? `:${event.code}` : ""}`),
    });
    const started = performance.now();
    await expect(sessions.load(new Headers({ cookie: unknownButSigned() }))).rejects.toMatchObject({
      code: ErrorCode.STORE_TIMEOUT,
      message: expect.stringContaining("operationTimeoutMs"),
    });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(events).toEqual(["store-error:STORE_TIMEOUT"]);
  });

  it("a defineStore store whose own deadline is longer still gets core's, storeTimeoutMs", async () => {
    const sessions = createSessionManager({
      store: slowStore(2_000),
      secrets: [SECRET],
      storeTimeoutMs: 50,
    });
    await expect(sessions.load(new Headers({ cookie: unknownButSigned() }))).rejects.toMatchObject({
      code: ErrorCode.STORE_TIMEOUT,
      message: expect.stringContaining("storeTimeoutMs"),
    });
  });

  it("an in-process defineStore store (operationTimeoutMs: false) gets no deadline from core: a slow answer still loads", async () => {
    const events: string[] = [];
    const sessions = createSessionManager({
      store: slowStore(false, 150),
      secrets: [SECRET],
      storeTimeoutMs: 50,
      onEvent: (event) => events.push(event.type),
    });
    // With core's 50 ms deadline this would be STORE_TIMEOUT; the store answers "no such session".
    expect((await sessions.load(new Headers({ cookie: unknownButSigned() }))).isNew).toBe(true);
    expect(events).toEqual(["unknown-id"]);
  });

  it("storeTimeoutMs must be a positive integer no larger than a timer allows", () => {
    for (const storeTimeoutMs of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      expect(() => managerOver(async () => null, storeTimeoutMs)).toThrow(
        expect.objectContaining({ code: ErrorCode.INVALID_CONFIG }),
      );
    }
  });
});

describe("secrets (A13)", () => {
  const store = harness().store;
  const refused = (secret: string | undefined) => {
    try {
      createSessionManager({ store, secrets: [secret as string] });
    } catch (error) {
      return error as { code: string; message: string };
    }
    return undefined;
  };

  it("documentation secrets of popular libraries are refused", () => {
    for (const secret of [
      "complex_password_at_least_32_characters_long",
      "a secret with minimum length of 32 characters",
      "averylogphrasebiggerthanthirtytwochars",
      "Your-256-bit-secret-your-256-bit-secret",
      "0123456789abcdef0123456789abcdef",
    ]) {
      expect(refused(secret)?.code, secret).toBe(ErrorCode.INVALID_CONFIG);
    }
  });

  it("repeated units, word phrases and runs of consecutive characters are refused", () => {
    for (const [secret, reason] of [
      ["keyboard cat keyboard cat keyboard cat", "repeats"],
      ["Keyboard-Cat-Keyboard-Cat-Keyboard-Cat!", "repeats"],
      ["q1w2e3r4t5q1w2e3r4t5q1w2e3r4t5q1w2e3r4t5", "repeats"],
      ["correct horse battery staple with extra words", "phrase of words"],
      ["my_very_long_and_private_session_signing_key", "phrase of words"],
      ["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL", "consecutive"],
    ] as const) {
      const error = refused(secret);
      expect(error?.code, secret).toBe(ErrorCode.INVALID_CONFIG);
      expect(error?.message, secret).toContain(reason);
      expect(error?.message).toContain("crypto.randomBytes(32)");
    }
  });

  it("1,000 random base64url and hex secrets are accepted", async () => {
    const { randomBytes } = await import("node:crypto");
    for (let i = 0; i < 500; i++) {
      expect(refused(randomBytes(32).toString("base64url"))).toBeUndefined();
      expect(refused(randomBytes(32).toString("hex"))).toBeUndefined();
    }
  });

  it("a missing secret names the environment variable it probably came from", () => {
    const error = refused(process.env.SESSIONKIT_TEST_UNSET_SECRET);
    expect(error?.code).toBe(ErrorCode.INVALID_CONFIG);
    expect(error?.message).toContain("secrets[0] is undefined");
    expect(error?.message).toContain("SESSION_SECRET");
    expect(refused("")?.message).toContain("secrets[0] is empty");
  });
});

describe("express-session habits fail loudly", () => {
  it("a property write on the session throws a TypeError instead of being silently lost", async () => {
    const h = harness<Data>();
    const session = await h.sessions.load(h.request());
    expect(() => {
      (session as unknown as Record<string, unknown>).userId = 1;
    }).toThrow(TypeError);
    expect(await session.commit()).toEqual({ outcome: "unchanged", headers: [["Vary", "Cookie"]] });
  });

  it("regenerate(cb), destroy(cb) and commit(cb) throw a TypeError naming what to do", async () => {
    const h = harness<Data>();
    const session = await h.sessions.load(h.request());
    const callback = () => {};
    const misuse = session as unknown as Record<string, (argument: unknown) => unknown>;
    expect(() => misuse.regenerate?.(callback)).toThrow(
      /session\.regenerate\(\) takes no callback/,
    );
    expect(() => misuse.destroy?.(callback)).toThrow(/session\.destroy\(\) takes no callback/);
    await expect(misuse.commit?.(callback)).rejects.toThrow(
      /session\.commit\(\) takes no callback/,
    );
  });
});

describe("error model", () => {
  it("retryable is true exactly for the codes answered with 503; CONFLICT is 409 and not retryable", async () => {
    const { SessionError } = await import("@sessionkit/core");
    for (const code of Object.values(ErrorCode)) {
      const error = new SessionError(code, "x");
      expect(error.retryable, code).toBe(error.httpStatus === 503);
    }
    expect(new SessionError(ErrorCode.CONFLICT, "x").httpStatus).toBe(409);
    expect(new SessionError(ErrorCode.STORE_TIMEOUT, "x").retryable).toBe(true);
  });
});

describe("limits are named in errors", () => {
  it("setUser() names the 512-character limit", async () => {
    const h = harness<Data>();
    const session = await h.sessions.load(h.request());
    expect(() => session.setUser("u".repeat(513))).toThrow(/1 to 512 characters/);
  });
});

describe("request shapes", () => {
  it("a Node header record, Fetch Headers, a get()-able object and an Express-like request read the same cookie", async () => {
    const h = harness<Data>();
    const created = await h.sessions.load(h.request(undefined));
    created.set("n", 1);
    const cookie = h.cookieFrom((await created.commit()).headers);
    const express = {
      headers: { cookie },
      // Express's req.get() reads the same record; a wrong answer here must never be used.
      get: () => "__Host-sid=not-the-cookie",
    };
    for (const request of [
      { headers: { cookie } },
      { headers: { cookie: [cookie] } },
      new Headers({ cookie }),
      { get: (name: string) => (name === "cookie" ? cookie : null) },
      express,
    ]) {
      const session = await h.sessions.load(request);
      expect(session.isNew).toBe(false);
      expect(session.get("n")).toBe(1);
    }
  });
});
