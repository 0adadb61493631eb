import {
  createSessionManager,
  ErrorCode,
  type Session,
  type SessionManagerOptions,
} from "@sessionkit/core";
import { storeKeyOf } from "@sessionkit/core/store";
import { describe, expect, it } from "vitest";
import { TOKEN_LENGTH } from "../src/signing.js";
import { harness, OLD_SECRET, SECRET } from "./helpers.js";
import { mapStore } from "./map-store.js";

interface Data {
  cart: string[];
  count: number;
  csrf: string;
  role: string;
  [key: string]: unknown;
}

async function signedIn(h: ReturnType<typeof harness<Data>>, data: Partial<Data> = { count: 1 }) {
  const session = await h.sessions.load(h.request());
  for (const [key, value] of Object.entries(data)) session.set(key, value);
  const result = await session.commit();
  return { session, cookie: h.cookieFrom(result.headers), result };
}

describe("lazy sessions (A15)", () => {
  it("load() of a request without a cookie costs no store call and commit() sets no cookie", async () => {
    const h = harness<Data>();
    const session = await h.sessions.load(h.request());
    expect(session.isNew).toBe(true);
    const result = await session.commit();
    expect(result.outcome).toBe("unchanged");
    expect(result.headers.find(([name]) => name === "Set-Cookie")).toBeUndefined();
    expect(h.store.calls).toEqual({});
  });

  it("commit() creates the record and sets the cookie once data is stored", async () => {
    const h = harness<Data>();
    const { result, cookie } = await signedIn(h, { count: 1 });
    expect(result.outcome).toBe("created");
    expect(cookie.startsWith("__Host-sid=")).toBe(true);
    expect(cookie.length).toBe("__Host-sid=".length + TOKEN_LENGTH);
    expect(h.store.calls).toEqual({ set: 1 });
    expect(await h.store.count?.()).toBe(1);
  });

  it("a later request sees the stored data in its own copy", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { cart: ["apple"] });
    const a = await h.sessions.load(h.request(cookie));
    const b = await h.sessions.load(h.request(cookie));
    expect(a).not.toBe(b);
    a.get("cart")?.push("pear");
    expect(b.get("cart")).toEqual(["apple"]);
  });

  it("load() twice for one request returns the same session object", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    const request = h.request(cookie);
    const [a, b] = await Promise.all([h.sessions.load(request), h.sessions.load(request)]);
    expect(a).toBe(b);
    expect(h.store.calls.get).toBe(1);
  });

  it("the per-request session is invisible on the request and works on frozen and Proxy requests too", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    const request = h.request(cookie);
    const keys = Reflect.ownKeys(request).length;
    const a = await h.sessions.load(request);
    expect(await h.sessions.load(request)).toBe(a);
    // Nothing enumerable was added: logs, spreads and JSON of the request are as before.
    expect(Object.keys(request)).toEqual(Object.keys(h.request(cookie)));
    expect(Object.getOwnPropertySymbols({ ...request })).toEqual(
      Object.getOwnPropertySymbols({ ...h.request(cookie) }),
    );
    expect(Reflect.ownKeys(request).length).toBe(keys + 1);
    const frozen = Object.freeze(h.request(cookie));
    // A plain request record: a Proxy of a Fetch Request cannot reach its private fields.
    const proxy = new Proxy(
      { headers: { cookie } },
      {
        defineProperty: () => {
          throw new Error("no properties here");
        },
      },
    );
    for (const special of [frozen, proxy]) {
      h.store.reset();
      const [first, second] = await Promise.all([
        h.sessions.load(special),
        h.sessions.load(special),
      ]);
      expect(first).toBe(second);
      expect(first.isNew).toBe(false);
      expect(await h.sessions.load(special)).toBe(first);
      expect(h.store.calls.get).toBe(1);
    }
  });

  it("a failed load is not cached: the next load of the same request tries again", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    const request = h.request(cookie);
    const broken = createSessionManager({
      store: { ...mapStore(), get: () => Promise.reject(new Error("down")) },
      secrets: [SECRET],
    });
    await expect(broken.load(request)).rejects.toMatchObject({ code: "STORE_ERROR" });
    await expect(broken.load(request)).rejects.toMatchObject({ code: "STORE_ERROR" });
    expect((await h.sessions.load(request)).isNew).toBe(false);
  });

  it("two managers with different cookie names work side by side in one request", async () => {
    const h = harness<Data>();
    const other = createSessionManager({
      store: mapStore(),
      secrets: [SECRET],
      cookie: { name: "__Host-prefs" },
    });
    const { cookie } = await signedIn(h, { role: "admin" });
    const prefs = await other.load(h.request());
    prefs.set("theme", "dark");
    const prefsCookie = h.cookieFrom((await prefs.commit()).headers);
    const request = h.request(`${cookie}; ${prefsCookie}`);
    expect((await h.sessions.load(request)).get("role")).toBe("admin");
    expect((await other.load(request)).get("theme")).toBe("dark");
  });
});

describe("ids and keys (A1, A2, A4, A14)", () => {
  it("the store key is the SHA-256 of the id, never the id or the cookie value", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    const token = cookie.slice(cookie.indexOf("=") + 1);
    const id = token.slice(0, token.indexOf("."));
    const keys = (await h.store.keys?.())?.keys ?? [];
    expect(keys).toEqual([storeKeyOf(id)]);
    expect(keys[0]).not.toContain(id);
    expect(keys[0]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("every session gets a fresh 256-bit id", async () => {
    const h = harness<Data>();
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) ids.add((await signedIn(h)).cookie);
    expect(ids.size).toBe(50);
  });

  it.each([
    ["tampered signature", (c: string) => `${c.slice(0, -2)}AA`],
    ["tampered id", (c: string) => c.replace("=", "=A").slice(0, c.length)],
    ["truncated", (c: string) => c.slice(0, -1)],
    ["trailing bytes", (c: string) => `${c}A`],
    ["empty", () => "__Host-sid="],
    ["huge", () => `__Host-sid=${"A".repeat(10_000)}`],
  ])("a %s cookie means no session and no store call (A14)", async (_label, mutate) => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    h.store.reset();
    const session = await h.sessions.load(h.request(mutate(cookie)));
    expect(session.isNew).toBe(true);
    expect(h.store.calls).toEqual({});
    expect(h.events.at(-1)?.type).toBe("bad-signature");
  });

  it("a cookie signed for another cookie name does not verify (A12)", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    const other = createSessionManager({
      store: h.store,
      secrets: [SECRET],
      cookie: { name: "__Host-other" },
    });
    const value = cookie.slice(cookie.indexOf("=") + 1);
    expect((await other.load(h.request(`__Host-other=${value}`))).isNew).toBe(true);
  });
});

describe("strict mode (A3)", () => {
  it("a validly signed but unknown id is never adopted: the new session gets a new id", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    await h.store.clear?.();
    const session = await h.sessions.load(h.request(cookie));
    expect(session.isNew).toBe(true);
    session.set("count", 2);
    const result = await session.commit();
    expect(result.outcome).toBe("created");
    expect(h.cookieFrom(result.headers)).not.toBe(cookie);
  });

  it("a stale cookie for an unknown id is ignored: no Set-Cookie answers it (A15)", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    await h.store.clear?.();
    const session = await h.sessions.load(h.request(cookie));
    const { outcome, headers } = await session.commit();
    expect(outcome).toBe("unchanged");
    expect(headers).toEqual([["Vary", "Cookie"]]);
  });
});

describe("cookie attributes (A5, A6, A11, A13)", () => {
  it("defaults to __Host-sid; Path=/; HttpOnly; Secure; SameSite=Lax and no Max-Age", async () => {
    const h = harness<Data>();
    const { result } = await signedIn(h);
    const setCookie = result.headers.find(([n]) => n === "Set-Cookie")?.[1] ?? "";
    expect(setCookie).toMatch(
      /^__Host-sid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(result.headers).toContainEqual(["Cache-Control", "no-store"]);
    expect(result.headers).toContainEqual(["Vary", "Cookie"]);
  });

  it("a persistent cookie gets Max-Age capped by the absolute timeout", async () => {
    const h = harness<Data>({ cookie: { maxAgeMs: 3_600_000 }, absoluteTimeoutMs: 7_200_000 });
    const { result } = await signedIn(h);
    expect(result.headers.find(([n]) => n === "Set-Cookie")?.[1]).toContain("; Max-Age=3600;");
  });

  it.each([
    [{ cookie: { name: "__Host-x", path: "/app" } }, "Path=/"],
    [{ cookie: { name: "__Host-x", domain: "example.com" } }, "Domain"],
    [{ cookie: { name: "__Secure-x", secure: false } }, "Secure"],
    [{ cookie: { name: "x", secure: false, sameSite: "none" as const } }, "SameSite=None"],
    [{ cookie: { name: "bad name" } }, "token"],
    [{ cookie: { name: "x;y" } }, "token"],
    [{ cookie: { name: "x=y" } }, "token"],
    [{ cookie: { path: "/a;b" } }, "path"],
    [{ cookie: { domain: "exa mple.com" } }, "domain"],
    [
      { cookie: { maxAgeMs: 500 * 24 * 3600 * 1000 }, absoluteTimeoutMs: 500 * 24 * 3600 * 1000 },
      "400 days",
    ],
    [{ cookie: { maxAgeMs: 3_600_000 }, absoluteTimeoutMs: 1_800_000 }, "absoluteTimeoutMs"],
    [{ touchAfterMs: 1_800_000, idleTimeoutMs: 1_800_000 }, "touchAfterMs"],
    [{ idleTimeoutMs: 0 }, "idleTimeoutMs"],
    [{ idFrom: { header: "x-session-id" } }, "canonical"],
    [{ cookie: { name: "n".repeat(5000) } }, "4096"],
  ])(
    "invalid configuration #%# fails at start-up with a message naming %s (A6)",
    (options, message) => {
      expect(() =>
        createSessionManager({ store: mapStore(), secrets: [SECRET], ...options }),
      ).toThrow(
        expect.objectContaining({
          code: expect.stringMatching(/INVALID_CONFIG|COOKIE_TOO_LARGE/),
          message: expect.stringContaining(message),
        }),
      );
    },
  );

  it.each([
    [[], "non-empty"],
    [["short"], "at least 32"],
    [["keyboard cat"], "32"],
    [["a".repeat(40)], "distinct"],
    [["0123456789abcdef0123456789abcdef"], "well-known"],
  ])("secrets %j are refused at start-up (A13)", (secrets, message) => {
    expect(() => createSessionManager({ store: mapStore(), secrets })).toThrow(
      expect.objectContaining({
        code: ErrorCode.INVALID_CONFIG,
        message: expect.stringContaining(message),
      }),
    );
  });

  it("secure: false is refused in production (A36)", () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = "production";
    try {
      expect(() =>
        createSessionManager({
          store: mapStore(),
          secrets: [SECRET],
          cookie: { secure: false },
        }),
      ).toThrow(/production/);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it("secure: false outside production drops the __Host- default name", async () => {
    const h = harness<Data>({ cookie: { secure: false } });
    const { result } = await signedIn(h);
    const setCookie = result.headers.find(([n]) => n === "Set-Cookie")?.[1] ?? "";
    expect(setCookie.startsWith("sid=")).toBe(true);
    expect(setCookie).not.toContain("Secure");
  });
});

describe("secret rotation (A13)", () => {
  it("a cookie signed with an old secret is accepted and re-signed with the first", async () => {
    const clockStore = mapStore();
    const before = createSessionManager({ store: clockStore, secrets: [OLD_SECRET] });
    const first = await before.load(new Request("https://x.test"));
    first.set("count", 1);
    const oldCookie =
      (await first.commit()).headers.find(([n]) => n === "Set-Cookie")?.[1].split(";")[0] ?? "";
    const after = createSessionManager({ store: clockStore, secrets: [SECRET, OLD_SECRET] });
    const session = await after.load(
      new Request("https://x.test", { headers: { cookie: oldCookie } }),
    );
    expect(session.get("count")).toBe(1);
    const { headers } = await session.commit();
    const newCookie = headers.find(([n]) => n === "Set-Cookie")?.[1].split(";")[0] ?? "";
    expect(newCookie).not.toBe(oldCookie);
    expect(newCookie.slice(0, 54)).toBe(oldCookie.slice(0, 54));
    const gone = createSessionManager({ store: clockStore, secrets: [SECRET] });
    expect(
      (await gone.load(new Request("https://x.test", { headers: { cookie: oldCookie } }))).isNew,
    ).toBe(true);
  });
});

describe("duplicate cookies (A8)", () => {
  it("the first cookie whose signature verifies wins; a forged duplicate never logs the user out", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { role: "user" });
    const forged = `__Host-sid=${"A".repeat(43)}.${"A".repeat(43)}`;
    for (const header of [
      `${forged}; ${cookie}`,
      `${cookie}; ${forged}`,
      `${forged}; ${forged}; ${cookie}`,
    ]) {
      expect((await h.sessions.load(h.request(header))).get("role")).toBe("user");
    }
  });

  it("of two valid session cookies, the first in the header is used and values are never merged", async () => {
    const h = harness<Data>();
    const a = (await signedIn(h, { role: "a" })).cookie;
    const b = (await signedIn(h, { count: 2 })).cookie;
    const session = await h.sessions.load(h.request(`${a}; ${b}`));
    expect(session.toJSON()).toEqual({ role: "a" });
  });
});

describe("id sources (A9)", () => {
  it("header and query tokens are ignored unless configured", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    const token = cookie.slice(cookie.indexOf("=") + 1);
    const viaHeader = await h.sessions.load(h.request(undefined, { "X-Session-Id": token }));
    const viaQuery = await h.sessions.load(new Request(`https://x.test/?sid=${token}`));
    expect(viaHeader.isNew).toBe(true);
    expect(viaQuery.isNew).toBe(true);
  });

  it("a configured header carries the token both ways", async () => {
    const h = harness<Data>({ idFrom: { header: "X-Session-Id" } });
    const session = await h.sessions.load(h.request());
    session.set("count", 5);
    const { headers } = await session.commit();
    const token = headers.find(([n]) => n === "X-Session-Id")?.[1] ?? "";
    expect(token).toHaveLength(TOKEN_LENGTH);
    expect(
      (await h.sessions.load(h.request(undefined, { "x-session-id": token }))).get("count"),
    ).toBe(5);
  });

  it("a configured query parameter is read", async () => {
    const h = harness<Data>({ idFrom: { query: "sid" } });
    const { cookie } = await signedIn(h, { count: 9 });
    const token = cookie.slice(cookie.indexOf("=") + 1);
    expect(
      (await h.sessions.load(new Request(`https://x.test/a?x=1&sid=${token}#f`))).get("count"),
    ).toBe(9);
  });
});

describe("discard() (A25)", () => {
  it("drops data, owner, regenerate and destroy changes: the stored session is untouched", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { cart: ["a"] });
    h.store.reset();
    const session = await h.sessions.load(h.request(cookie));
    session.set("cart", ["a", "b"]).setUser("u1").regenerate().destroy();
    session.discard();
    expect(session.get("cart")).toEqual(["a"]);
    expect(session.userId).toBeUndefined();
    const result = await session.commit();
    expect(result.outcome).toBe("unchanged");
    expect(result.headers.some(([n]) => n === "Set-Cookie")).toBe(false);
    expect(h.store.calls).toEqual({ get: 1 });
  });

  it("on a new session stores nothing and sends no cookie; later changes are kept", async () => {
    const h = harness<Data>();
    const session = await h.sessions.load(h.request());
    session.set("count", 1).flash("notice", "hi").discard();
    expect(session.has("count")).toBe(false);
    expect((await session.commit()).outcome).toBe("unchanged");
    expect(h.store.calls).toEqual({});
    session.set("count", 2);
    expect((await session.commit()).outcome).toBe("created");
  });

  it("after a commit drops only what changed since", async () => {
    const h = harness<Data>();
    const session = await h.sessions.load(h.request());
    session.set("count", 1);
    await session.commit();
    session.set("count", 5).discard();
    expect(session.get("count")).toBe(1);
    expect((await session.commit()).outcome).toBe("unchanged");
  });
});

describe("commit rules (A23)", () => {
  it("an unchanged session is not written", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { cart: ["a"] });
    h.store.reset();
    const session = await h.sessions.load(h.request(cookie));
    expect(session.get("cart")).toEqual(["a"]);
    const result = await session.commit();
    expect(result.outcome).toBe("unchanged");
    expect(h.store.calls).toEqual({ get: 1 });
    expect(result.headers.some(([n]) => n === "Set-Cookie")).toBe(false);
  });

  it("a nested change is detected and written with one store call", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { cart: ["a"] });
    const session = await h.sessions.load(h.request(cookie));
    session.get("cart")?.push("b");
    h.store.reset();
    expect((await session.commit()).outcome).toBe("updated");
    expect(h.store.calls).toEqual({ set: 1 });
    expect((await h.sessions.load(h.request(cookie))).get("cart")).toEqual(["a", "b"]);
  });

  describe("objects handed out by get() are compared one by one", () => {
    const stored = {
      cart: ["a"],
      ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`box${i}`, { items: [i] }])),
    };
    /** A stored session holding `stored`, loaded again by a new request. */
    const loadStored = async (options: Partial<SessionManagerOptions> = {}) => {
      const h = harness<Data>(options);
      const { cookie } = await signedIn(h, stored);
      return { h, cookie, session: await h.sessions.load(h.request(cookie)) };
    };

    it("a change is seen when the changed value is handed out again before the commit", async () => {
      const { h, cookie, session } = await loadStored();
      session.get("cart")?.push("b");
      expect(session.get("cart")).toEqual(["a", "b"]);
      h.store.reset();
      expect((await session.commit()).outcome).toBe("updated");
      expect(h.store.calls).toEqual({ set: 1 });
      expect((await h.sessions.load(h.request(cookie))).get("cart")).toEqual(["a", "b"]);
    });

    it("a change made after an unchanged commit is written by the next commit", async () => {
      const { h, cookie, session } = await loadStored();
      const cart = session.get("cart");
      expect((await session.commit()).outcome).toBe("unchanged");
      cart?.push("b");
      expect((await session.commit()).outcome).toBe("updated");
      expect((await h.sessions.load(h.request(cookie))).get("cart")).toEqual(["a", "b"]);
    });

    it("a change to any of many values handed out is seen, the last one too", async () => {
      const { h, cookie, session } = await loadStored();
      const boxes = Array.from(
        { length: 10 },
        (_, i) => session.get(`box${i}`) as { items: number[] },
      );
      boxes[9]?.items.push(99);
      h.store.reset();
      expect((await session.commit()).outcome).toBe("updated");
      expect(h.store.calls).toEqual({ set: 1 });
      expect((await h.sessions.load(h.request(cookie))).get("box9")).toEqual({ items: [9, 99] });
    });

    it("values handed out and left alone write nothing, with any number of them", async () => {
      const { h, session } = await loadStored();
      for (let i = 0; i < 10; i++) session.get(`box${i}`);
      session.get("cart");
      h.store.reset();
      expect((await session.commit()).outcome).toBe("unchanged");
      expect(h.store.calls).toEqual({});
    });

    it("with a codec of the application's own, a change to a value handed out is seen", async () => {
      const codec = {
        encode: (value: unknown) => `x${JSON.stringify(value)}`,
        decode: (text: string) => JSON.parse(text.slice(1)) as unknown,
      };
      const { h, cookie, session } = await loadStored({ codec });
      (session.get("box0") as { items: number[] }).items.push(7);
      expect((await session.commit()).outcome).toBe("updated");
      expect((await h.sessions.load(h.request(cookie))).get("box0")).toEqual({ items: [0, 7] });
    });

    it("a value made unencodable after it was handed out fails the commit with INVALID_DATA", async () => {
      const { session } = await loadStored();
      const box = session.get("box0") as { items: unknown[] };
      box.items.push(10n);
      await expect(session.commit()).rejects.toMatchObject({ code: "INVALID_DATA" });
    });
  });

  it("50 concurrent request cycles on one session, each setting its own key, all persist", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { count: 0 });
    const sessions = await Promise.all(
      Array.from({ length: 50 }, () => h.sessions.load(h.request(cookie))),
    );
    await Promise.all(
      sessions.map(async (session, i) => {
        session.set(`key${i}`, i);
        await session.commit();
      }),
    );
    const final = (await h.sessions.load(h.request(cookie))).toJSON();
    for (let i = 0; i < 50; i++) expect(final[`key${i}`]).toBe(i);
    expect(final.count).toBe(0);
  });

  it("a key deleted by one request and a key set by another both take effect", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { role: "x", count: 1 });
    const a = await h.sessions.load(h.request(cookie));
    const b = await h.sessions.load(h.request(cookie));
    a.delete("role");
    b.set("count", 2);
    await a.commit();
    await b.commit();
    expect((await h.sessions.load(h.request(cookie))).toJSON()).toEqual({ count: 2 });
  });

  it("keys named like Object.prototype's members merge as plain keys (loaded data has that prototype)", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { count: 1 });
    // Typed as a plain record: Data's interface would type these keys as Object's methods.
    type Loose = Session<Record<string, unknown>>;
    const a = (await h.sessions.load(h.request(cookie))) as unknown as Loose;
    const b = (await h.sessions.load(h.request(cookie))) as unknown as Loose;
    expect(a.get("toString")).toBeUndefined();
    expect(a.has("hasOwnProperty")).toBe(false);
    a.set("toString", "mine");
    b.set("valueOf", 2);
    await a.commit();
    await b.commit();
    const merged = await h.sessions.load(h.request(cookie));
    expect(merged.toJSON()).toEqual({ count: 1, toString: "mine", valueOf: 2 });
    expect(merged.get("toString")).toBe("mine");
    // A delete merged onto a concurrent write: "toString" is still an inherited name.
    const c = await h.sessions.load(h.request(cookie));
    const d = await h.sessions.load(h.request(cookie));
    d.set("count", 2);
    await d.commit();
    c.delete("toString");
    await c.commit();
    expect((await h.sessions.load(h.request(cookie))).toJSON()).toEqual({ count: 2, valueOf: 2 });
  });

  it('two requests changing the same key: last writer wins, or CONFLICT with conflict: "error"', async () => {
    for (const conflict of ["merge", "error"] as const) {
      const h = harness<Data>({ conflict });
      const { cookie } = await signedIn(h, { count: 1 });
      const a = await h.sessions.load(h.request(cookie));
      const b = await h.sessions.load(h.request(cookie));
      a.set("count", 2);
      b.set("count", 3);
      await a.commit();
      if (conflict === "merge") {
        await b.commit();
        expect((await h.sessions.load(h.request(cookie))).get("count")).toBe(3);
      } else {
        await expect(b.commit()).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
        expect((await h.sessions.load(h.request(cookie))).get("count")).toBe(2);
      }
    }
  });
});

describe("timeouts (A19, A20)", () => {
  it("a session unused for idleTimeoutMs is gone", async () => {
    const h = harness<Data>({ idleTimeoutMs: 60_000, touchAfterMs: 10_000 });
    const { cookie } = await signedIn(h);
    h.clock.advance(60_000);
    expect((await h.sessions.load(h.request(cookie))).isNew).toBe(true);
  });

  it("activity pushes the idle expiry back, at most once per touchAfterMs, with one touch", async () => {
    const h = harness<Data>({ idleTimeoutMs: 60_000, touchAfterMs: 10_000 });
    const { cookie } = await signedIn(h);
    h.clock.advance(5_000);
    h.store.reset();
    expect((await (await h.sessions.load(h.request(cookie))).commit()).outcome).toBe("unchanged");
    expect(h.store.calls).toEqual({ get: 1 });
    h.clock.advance(6_000);
    h.store.reset();
    expect((await (await h.sessions.load(h.request(cookie))).commit()).outcome).toBe("touched");
    expect(h.store.calls).toEqual({ get: 1, touch: 1 });
    h.clock.advance(55_000);
    expect((await h.sessions.load(h.request(cookie))).isNew).toBe(false);
  });

  it("a write moves the idle expiry on a touch's schedule: kept within touchAfterMs, moved once due", async () => {
    const h = harness<Data>({ idleTimeoutMs: 60_000, touchAfterMs: 10_000 });
    const { cookie, session: first } = await signedIn(h);
    const stored = first.expiresAt;
    expect(stored).toBe(h.clock.now() + 60_000);
    const write = async () => {
      const session = await h.sessions.load(h.request(cookie));
      session.set("count", (session.get("count") ?? 0) + 1);
      expect((await session.commit()).outcome).toBe("updated");
      return session.expiresAt;
    };
    h.clock.advance(9_999);
    expect(await write()).toBe(stored);
    // Once moving it forward is due (by touchAfterMs or more), a write moves it.
    h.clock.advance(10_000);
    expect(await write()).toBe(h.clock.now() + 60_000);
    const moved = h.clock.now() + 60_000;
    h.clock.advance(60_000 - 1);
    expect((await h.sessions.load(h.request(cookie))).get("count")).toBe(3);
    h.clock.advance(1);
    expect((await h.sessions.load(h.request(cookie))).isNew).toBe(true);
    expect(moved).toBe(h.clock.now());
  });

  it("a write that changes the expiry policy, or shortens the expiry, always writes its own", async () => {
    const h = harness<Data>({ idleTimeoutMs: 60_000, touchAfterMs: 10_000 });
    const { cookie } = await signedIn(h);
    h.clock.advance(1_000);
    const longer = await h.sessions.load(h.request(cookie));
    longer.persist(60_500);
    await longer.commit();
    expect(longer.expiresAt).toBe(h.clock.now() + 60_500);
    h.clock.advance(1_000);
    const shorter = await h.sessions.load(h.request(cookie));
    shorter.persist(5_000);
    await shorter.commit();
    expect(shorter.expiresAt).toBe(h.clock.now() + 5_000);
  });

  it("the absolute timeout ends a session however active, and regeneration does not reset it", async () => {
    const h = harness<Data>({
      idleTimeoutMs: 60_000,
      absoluteTimeoutMs: 120_000,
      touchAfterMs: 1_000,
    });
    let { cookie } = await signedIn(h);
    for (let i = 0; i < 3; i++) {
      h.clock.advance(30_000);
      const session = await h.sessions.load(h.request(cookie));
      expect(session.isNew).toBe(false);
      session.regenerate();
      cookie = h.cookieFrom((await session.commit()).headers);
    }
    h.clock.advance(30_000);
    expect((await h.sessions.load(h.request(cookie))).isNew).toBe(true);
  });

  it("the stored expiry is the earlier of idle and absolute deadlines", async () => {
    const h = harness<Data>({
      idleTimeoutMs: 60_000,
      absoluteTimeoutMs: 90_000,
      touchAfterMs: 1_000,
    });
    const { cookie, session } = await signedIn(h);
    expect(session.expiresAt).toBe(h.clock.now() + 60_000);
    h.clock.advance(50_000);
    const later = await h.sessions.load(h.request(cookie));
    await later.commit();
    expect(later.expiresAt).toBe((session.createdAt ?? 0) + 90_000);
  });
});

describe("regenerate (A16)", () => {
  it("regenerate() issues a new id, keeps the data, and the old id stops working at once", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { cart: ["a"], csrf: "t1" });
    const session = await h.sessions.load(h.request(cookie));
    session.regenerate().setUser("alice");
    const result = await session.commit();
    expect(result.outcome).toBe("regenerated");
    const next = h.cookieFrom(result.headers);
    expect(next).not.toBe(cookie);
    expect((await h.sessions.load(h.request(cookie))).isNew).toBe(true);
    const reloaded = await h.sessions.load(h.request(next));
    expect(reloaded.toJSON()).toEqual({ cart: ["a"], csrf: "t1" });
    expect(reloaded.userId).toBe("alice");
    expect(await h.store.count?.()).toBe(1);
  });

  it("regenerate({ keep }) keeps only the listed keys", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { cart: ["a"], csrf: "t1" });
    const session = await h.sessions.load(h.request(cookie));
    session.regenerate({ keep: ["cart"] });
    const next = h.cookieFrom((await session.commit()).headers);
    expect((await h.sessions.load(h.request(next))).toJSON()).toEqual({ cart: ["a"] });
  });

  it("regenerate() on a session destroyed meanwhile does not resurrect it (A18)", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    const login = await h.sessions.load(h.request(cookie));
    const logout = await h.sessions.load(h.request(cookie));
    logout.destroy();
    await logout.commit();
    login.regenerate();
    await expect(login.commit()).rejects.toMatchObject({
      code: ErrorCode.CONFLICT,
      httpStatus: 409,
    });
    expect(await h.store.count?.()).toBe(0);
  });
});

describe("destroy (A17, A18)", () => {
  it("destroy() deletes the record and clears the cookie with matching attributes", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    const session = await h.sessions.load(h.request(cookie));
    session.destroy();
    const result = await session.commit();
    expect(result.outcome).toBe("destroyed");
    expect(result.headers.find(([n]) => n === "Set-Cookie")?.[1]).toBe(
      "__Host-sid=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax",
    );
    expect(result.headers).toContainEqual(["Cache-Control", "no-store"]);
    expect(await h.store.count?.()).toBe(0);
    expect(() => session.set("count", 1)).toThrow(
      expect.objectContaining({ code: ErrorCode.SESSION_CLOSED }),
    );
  });

  it("a late write from a request that loaded before a destroy never resurrects the session", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    const late = await h.sessions.load(h.request(cookie));
    const logout = await h.sessions.load(h.request(cookie));
    logout.destroy();
    await logout.commit();
    late.set("count", 99);
    await expect(late.commit()).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
    expect(await h.store.count?.()).toBe(0);
    h.clock.advance(120_000);
    expect((await (await h.sessions.load(h.request(cookie))).commit()).outcome).toBe("unchanged");
    expect(await h.store.count?.()).toBe(0);
  });
});

describe("per-user sessions (A21, A22)", () => {
  it("destroyOtherSessions() ends the user's other sessions on their next request", async () => {
    const h = harness<Data>();
    const devices = [];
    for (let i = 0; i < 3; i++) {
      const session = await h.sessions.load(h.request());
      session.setUser("alice").set("count", i);
      devices.push(h.cookieFrom((await session.commit()).headers));
    }
    const current = await h.sessions.load(h.request(devices[0]));
    expect((await current.listSessions()).map((s) => s.current).sort()).toEqual([
      false,
      false,
      true,
    ]);
    expect(await current.destroyOtherSessions()).toBe(2);
    expect((await h.sessions.load(h.request(devices[0]))).isNew).toBe(false);
    expect((await h.sessions.load(h.request(devices[1]))).isNew).toBe(true);
    expect((await h.sessions.load(h.request(devices[2]))).isNew).toBe(true);
  });

  it("destroySession(handle) only destroys the user's own sessions", async () => {
    const h = harness<Data>();
    const alice = await h.sessions.load(h.request());
    alice.setUser("alice");
    const aliceCookie = h.cookieFrom((await alice.commit()).headers);
    const bob = await h.sessions.load(h.request());
    bob.setUser("bob");
    const bobCookie = h.cookieFrom((await bob.commit()).headers);
    const bobHandle =
      (await (await h.sessions.load(h.request(bobCookie))).listSessions())[0]?.handle ?? "";
    const aliceAgain = await h.sessions.load(h.request(aliceCookie));
    expect(await aliceAgain.destroySession(bobHandle)).toBe(false);
    expect((await h.sessions.load(h.request(bobCookie))).isNew).toBe(false);
  });

  it("handles are keyed hashes, never store keys, and the current one ends this session at commit", async () => {
    const h = harness<Data>();
    const laptop = await h.sessions.load(h.request());
    const laptopCookie = h.cookieFrom((await laptop.setUser("alice").commit()).headers);
    const phone = await h.sessions.load(h.request());
    const phoneCookie = h.cookieFrom((await phone.setUser("alice").commit()).headers);
    const keys = new Set((await h.store.keys?.())?.keys);

    const session = await h.sessions.load(h.request(laptopCookie));
    const listed = await session.listSessions();
    expect(listed).toHaveLength(2);
    for (const { handle } of listed) {
      expect(handle).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(keys.has(handle)).toBe(false);
    }
    // Another manager with the same secret (another process) sees the same handles.
    const other = harness<Data>({ store: h.store, secrets: [SECRET] });
    const seen = await (await other.sessions.load(other.request(phoneCookie))).listSessions();
    expect(seen.map((info) => info.handle).sort()).toEqual(
      listed.map((info) => info.handle).sort(),
    );

    const current = listed.find((info) => info.current)?.handle ?? "";
    expect(await session.destroySession(current)).toBe(true);
    expect(await h.store.count?.()).toBe(2);
    const result = await session.commit();
    expect(result.outcome).toBe("destroyed");
    expect(result.headers.find(([n]) => n === "Set-Cookie")?.[1]).toMatch(/^__Host-sid=; /);
    expect(await h.store.count?.()).toBe(1);
    expect((await h.sessions.load(h.request(phoneCookie))).isNew).toBe(false);
  });
});

describe("data safety (A26, A27, A28, A29)", () => {
  it("prototype-polluting keys are refused by set() and inert in stored data", async () => {
    const h = harness<Data>();
    const session = await h.sessions.load(h.request());
    for (const key of ["__proto__", "constructor", "prototype"]) {
      expect(() => session.set(key, { polluted: true })).toThrow(TypeError);
    }
    session.set("nested", JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}'));
    const cookie = h.cookieFrom((await session.commit()).headers);
    const loaded = (await h.sessions.load(h.request(cookie))).get("nested") as Record<
      string,
      unknown
    >;
    expect(loaded.ok).toBe(1);
    expect(Object.getPrototypeOf(loaded)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("BigInt or a cycle fails the commit with INVALID_DATA and leaves the stored session intact", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { count: 1 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const value of [10n, cyclic]) {
      const session = await h.sessions.load(h.request(cookie));
      session.set("bad", value);
      await expect(session.commit()).rejects.toMatchObject({ code: ErrorCode.INVALID_DATA });
    }
    expect((await h.sessions.load(h.request(cookie))).toJSON()).toEqual({ count: 1 });
  });

  it("NUL and lone surrogates in values round-trip exactly", async () => {
    const h = harness<Data>();
    const value = "a\u0000b\uD800c\uDFFFd";
    const { cookie } = await signedIn(h, { role: value });
    expect((await h.sessions.load(h.request(cookie))).get("role")).toBe(value);
  });

  it("an oversized session fails with PAYLOAD_TOO_LARGE and nothing is written", async () => {
    const h = harness<Data>({ maxPayloadBytes: 1_000 });
    const session = await h.sessions.load(h.request());
    session.set("role", "x".repeat(2_000));
    await expect(session.commit()).rejects.toMatchObject({ code: ErrorCode.PAYLOAD_TOO_LARGE });
    expect(h.store.calls.set).toBeUndefined();
  });

  it("a corrupt record means no session and an event, never a crash", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { role: "admin" });
    const [key] = (await h.store.keys?.())?.keys ?? [];
    const record = await h.store.get(key as string);
    for (const payload of ["not json", "[]", '{"d":[]}', "null", '{"d":{},"f":3}']) {
      await h.store.set(
        key as string,
        { ...(record as NonNullable<typeof record>), payload, version: 2 },
        { ifVersion: (await h.store.get(key as string))?.version ?? 0 },
      );
      const session = await h.sessions.load(h.request(cookie));
      expect(session.isNew).toBe(true);
      expect(h.events.at(-1)?.type).toBe("corrupt-record");
    }
  });
});

describe("flash messages", () => {
  it("flash() is read once by a later request", async () => {
    const h = harness<Data>();
    const session = await h.sessions.load(h.request());
    session.flash("info", "Saved").flash("info", "Again");
    const cookie = h.cookieFrom((await session.commit()).headers);
    const next = await h.sessions.load(h.request(cookie));
    expect(next.consumeFlash("info")).toEqual(["Saved", "Again"]);
    await next.commit();
    expect((await h.sessions.load(h.request(cookie))).consumeFlash("info")).toEqual([]);
  });

  it("a flash queued while another request changed the session is merged onto its write", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { count: 1 });
    const a = await h.sessions.load(h.request(cookie));
    const b = await h.sessions.load(h.request(cookie));
    b.set("count", 2);
    await b.commit();
    // a's compare-and-set fails, and its flash is merged onto b's record, which has none.
    a.flash("info", "Saved");
    await a.commit();
    const next = await h.sessions.load(h.request(cookie));
    expect(next.get("count")).toBe(2);
    expect(next.consumeFlash("info")).toEqual(["Saved"]);
    expect(next.consumeFlash("info")).toEqual([]);
  });

  it("sessions without flash messages share nothing: a flash queued in one never shows in another", async () => {
    const h = harness<Data>();
    const first = await signedIn(h, { count: 1 });
    const second = await signedIn(h, { count: 2 });
    const a = await h.sessions.load(h.request(first.cookie));
    const b = await h.sessions.load(h.request(second.cookie));
    const fresh = await h.sessions.load(h.request());
    a.flash("info", "only a");
    expect(b.consumeFlash("info")).toEqual([]);
    expect(fresh.consumeFlash("info")).toEqual([]);
    // A key named like an Object.prototype member is a plain flash key.
    b.flash("toString", "b's");
    expect(b.consumeFlash("toString")).toEqual(["b's"]);
    expect(a.consumeFlash("toString")).toEqual([]);
    expect(a.consumeFlash("info")).toEqual(["only a"]);
  });
});

describe("events (A38)", () => {
  it("events carry a salted hash of the id, never the id or the token", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h);
    const session = await h.sessions.load(h.request(cookie));
    session.regenerate();
    await session.commit();
    const token = cookie.slice(cookie.indexOf("=") + 1);
    const id = token.slice(0, 43);
    expect(h.events.map((e) => e.type)).toEqual(["created", "regenerated"]);
    for (const event of h.events) {
      expect(event.sessionHash).toMatch(/^[0-9a-f]{16}$/);
      expect(JSON.stringify(event)).not.toContain(id);
      expect(JSON.stringify(event)).not.toContain(storeKeyOf(id));
    }
  });

  it("a throwing listener never breaks a request", async () => {
    const h = harness<Data>({
      onEvent: () => {
        throw new Error("listener bug");
      },
    });
    const { result } = await signedIn(h);
    expect(result.outcome).toBe("created");
  });
});

describe("regenerate({ keep }) then set()", () => {
  it("values set after regenerate({ keep }) in the same request are kept (a fresh CSRF token)", async () => {
    const h = harness<Data>();
    const { cookie } = await signedIn(h, { cart: ["a"], csrf: "pre-login" });
    const session = await h.sessions.load(h.request(cookie));
    session.regenerate({ keep: ["cart"] }).set("csrf", "post-login");
    expect(session.toJSON()).toEqual({ cart: ["a"], csrf: "post-login" });
    const next = h.cookieFrom((await session.commit()).headers);
    expect((await h.sessions.load(h.request(next))).toJSON()).toEqual({
      cart: ["a"],
      csrf: "post-login",
    });
  });
});
