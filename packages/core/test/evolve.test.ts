import {
  createSessionManager,
  ErrorCode,
  type SessionManagerOptions,
  type StandardSchemaV1,
} from "@sessionkit/core";
import { afterEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import { harness } from "./helpers.js";

// Versioned, validated session data and per-session "remember me".

interface V2 {
  user?: { id: string; name: string };
  cart?: string[];
}

/** A hand-written Standard Schema: `user` must be `{ id, name }` strings, `cart` a string array. */
const v2Schema: StandardSchemaV1<unknown, V2> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate(value) {
      const data = value as Record<string, unknown>;
      const user = data.user as Record<string, unknown> | undefined;
      if (user !== undefined && (typeof user?.id !== "string" || typeof user.name !== "string")) {
        return { issues: [{ message: "expected { id, name }", path: ["user"] }] };
      }
      const cart = data.cart;
      if (
        cart !== undefined &&
        !(Array.isArray(cart) && cart.every((i) => typeof i === "string"))
      ) {
        return { issues: [{ message: "expected strings", path: [{ key: "cart" }] }] };
      }
      return { value: data as V2 };
    },
  },
};

/** v1 stored `user` as a plain id string. */
const upgrade: SessionManagerOptions["upgrade"] = (data, from) => {
  if (from !== 1) throw new Error(`no upgrade from ${from}`);
  return { ...data, user: { id: String(data.user), name: "unknown" } };
};

describe("schema, version and upgrade", () => {
  it("Data is inferred from the schema", () => {
    const h = harness();
    const sessions = createSessionManager({
      store: h.store,
      secrets: [SECRET_FOR_TYPES],
      schema: v2Schema,
    });
    expectTypeOf(sessions.load).returns.resolves.toHaveProperty("get");
    type Loaded = Awaited<ReturnType<typeof sessions.load>>;
    expectTypeOf<ReturnType<Loaded["get"]>>().toEqualTypeOf<
      { id: string; name: string } | string[] | undefined
    >();
  });

  it("a write the schema refuses fails with INVALID_DATA and writes nothing", async () => {
    const h = harness<V2>({ schema: v2Schema });
    const session = await h.sessions.load(h.request());
    session.set("cart", [1 as unknown as string]);
    await expect(session.commit()).rejects.toMatchObject({
      code: ErrorCode.INVALID_DATA,
      message: "session data does not match the schema: cart: expected strings",
    });
    expect(h.store.calls.set).toBeUndefined();
  });

  describe("checkWrites", () => {
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    /** Writes `cart: [1]` (the schema wants strings); what the commit did, and what the next load finds. */
    async function badWrite(options: Partial<SessionManagerOptions>) {
      const h = harness<V2>({ schema: v2Schema, ...options });
      const session = await h.sessions.load(h.request());
      session.set("user", { id: "u1", name: "Ada" });
      const created = await session.commit();
      const cookie = h.cookieFrom(created.headers);
      const again = await h.sessions.load(h.request(cookie));
      again.set("cart", [1 as unknown as string]);
      const commit = await again.commit().then(
        (result) => result.outcome,
        (error: { code?: string }) => error.code,
      );
      const next = await h.sessions.load(h.request(cookie));
      return { commit, next: next.get("user"), events: h.events.map((e) => e.type) };
    }

    it("writes are checked outside production by default", async () => {
      vi.stubEnv("NODE_ENV", "development");
      expect(await badWrite({})).toEqual({
        commit: ErrorCode.INVALID_DATA,
        next: { id: "u1", name: "Ada" },
        events: ["created"],
      });
    });

    it("in production a write is not checked by default: the next load treats the bad value as onInvalid says", async () => {
      vi.stubEnv("NODE_ENV", "production");
      expect(await badWrite({})).toEqual({
        commit: "updated",
        next: undefined,
        events: ["created", "invalid-data"],
      });
    });

    it("checkWrites: true checks writes in production; false skips them elsewhere", async () => {
      vi.stubEnv("NODE_ENV", "production");
      expect((await badWrite({ checkWrites: true })).commit).toBe(ErrorCode.INVALID_DATA);
      vi.stubEnv("NODE_ENV", "test");
      expect((await badWrite({ checkWrites: false })).commit).toBe("updated");
    });

    it("checkWrites must be a boolean", () => {
      expect(() =>
        harness<V2>({ schema: v2Schema, checkWrites: "yes" as unknown as boolean }),
      ).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_CONFIG }));
    });
  });

  it("an async schema judges loads and writes as a synchronous one does; a schema that throws fails them", async () => {
    const asyncSchema: StandardSchemaV1<unknown, V2> = {
      "~standard": {
        ...v2Schema["~standard"],
        validate: async (value) => v2Schema["~standard"].validate(value),
      },
    };
    let broken = false;
    const throwing: StandardSchemaV1<unknown, V2> = {
      "~standard": {
        ...v2Schema["~standard"],
        validate: (value) => {
          if (broken) throw new Error("schema bug (test)");
          return v2Schema["~standard"].validate(value);
        },
      },
    };
    const v1 = harness<Record<string, unknown>>();
    const first = await v1.sessions.load(v1.request());
    const bad = v1.cookieFrom((await first.set("cart", "not a list").commit()).headers);
    const second = await v1.sessions.load(v1.request());
    const good = v1.cookieFrom((await second.set("cart", ["a"]).commit()).headers);
    let stored = ["a"];
    for (const [index, schema] of [v2Schema, asyncSchema].entries()) {
      const h = harness<V2>({ store: v1.store, schema, onInvalid: "error" });
      await expect(h.sessions.load(h.request(bad))).rejects.toMatchObject({
        code: ErrorCode.INVALID_DATA,
      });
      const session = await h.sessions.load(h.request(good));
      expect(session.get("cart")).toEqual(stored);
      session.set("cart", [1 as unknown as string]);
      await expect(session.commit()).rejects.toMatchObject({ code: ErrorCode.INVALID_DATA });
      stored = [`b${index}`];
      session.set("cart", stored);
      expect((await session.commit()).outcome).toBe("updated");
    }
    const h = harness<V2>({ store: v1.store, schema: throwing });
    const session = await h.sessions.load(h.request(good));
    broken = true;
    session.set("cart", ["c"]);
    await expect(session.commit()).rejects.toThrow("schema bug (test)");
    await expect(h.sessions.load(h.request(good))).rejects.toThrow("schema bug (test)");
    broken = false;
    expect((await h.sessions.load(h.request(good))).get("cart")).toEqual(stored);
  });

  it("a session written by version 1 is upgraded on load and written back as version 2", async () => {
    const v1 = harness<Record<string, unknown>>();
    const first = await v1.sessions.load(v1.request());
    const cookie = v1.cookieFrom((await first.set("user", "u1").commit()).headers);

    const v2 = harness<V2>({ store: v1.store, schema: v2Schema, version: 2, upgrade });
    const session = await v2.sessions.load(v2.request(cookie));
    expect(session.get("user")).toEqual({ id: "u1", name: "unknown" });
    expect(v2.events.map((e) => e.type)).toEqual(["upgraded"]);
    expect((await session.commit()).outcome).toBe("updated");
    const [key] = (await v1.store.keys?.())?.keys ?? [];
    expect(JSON.parse((await v1.store.get(key as string))?.payload as string)).toEqual({
      d: { user: { id: "u1", name: "unknown" } },
      v: 2,
    });
    // Loaded again: already version 2, nothing to upgrade.
    v2.events.length = 0;
    expect((await v2.sessions.load(v2.request(cookie))).get("user")?.name).toBe("unknown");
    expect(v2.events).toEqual([]);
  });

  it('invalid stored data: "reset" deletes the session, "error" fails with INVALID_DATA', async () => {
    const v1 = harness<Record<string, unknown>>();
    const first = await v1.sessions.load(v1.request());
    const cookie = v1.cookieFrom((await first.set("cart", "not a list").commit()).headers);

    const strict = harness<V2>({ store: v1.store, schema: v2Schema, onInvalid: "error" });
    await expect(strict.sessions.load(strict.request(cookie))).rejects.toMatchObject({
      code: ErrorCode.INVALID_DATA,
      message: expect.stringContaining("cart: expected strings"),
    });
    expect(await v1.store.count?.()).toBe(1);

    const lenient = harness<V2>({ store: v1.store, schema: v2Schema });
    const session = await lenient.sessions.load(lenient.request(cookie));
    expect(session.isNew).toBe(true);
    expect(lenient.events.map((e) => `${e.type}:${e.code}`)).toEqual(["invalid-data:INVALID_DATA"]);
    expect(await v1.store.count?.()).toBe(0);
  });

  it("an upgrade that throws makes the session invalid", async () => {
    const v1 = harness<Record<string, unknown>>();
    const first = await v1.sessions.load(v1.request());
    const cookie = v1.cookieFrom((await first.set("user", "u1").commit()).headers);
    const v3 = harness<V2>({
      store: v1.store,
      schema: v2Schema,
      version: 3,
      upgrade: () => {
        throw new Error("no path from version 1");
      },
    });
    expect((await v3.sessions.load(v3.request(cookie))).isNew).toBe(true);
    expect(v3.events.map((e) => e.type)).toEqual(["invalid-data"]);
    expect(await v1.store.count?.()).toBe(0);
  });

  it("a session written by a newer version is never deleted by older code (rolling deploys)", async () => {
    const v2 = harness<V2>({ schema: v2Schema, version: 2, upgrade });
    const first = await v2.sessions.load(v2.request());
    const cookie = v2.cookieFrom(
      (await first.set("user", { id: "u1", name: "Ann" }).commit()).headers,
    );
    const v1Schema: StandardSchemaV1<unknown, { user?: string }> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value) =>
          typeof (value as { user?: unknown }).user === "string"
            ? { value: value as { user: string } }
            : { issues: [{ message: "expected a string", path: ["user"] }] },
      },
    };
    const old = harness<{ user?: string }>({ store: v2.store, schema: v1Schema });
    expect((await old.sessions.load(old.request(cookie))).isNew).toBe(true);
    expect(old.events.map((e) => e.type)).toEqual(["invalid-data"]);
    expect(await v2.store.count?.()).toBe(1);
    expect((await v2.sessions.load(v2.request(cookie))).get("user")?.name).toBe("Ann");
  });
});

describe("persist(): remember me per session", () => {
  const DAY = 24 * 3_600_000;

  it("persist(30 days) gives this session a persistent cookie and keeps it through 30 days of inactivity", async () => {
    const h = harness<V2>({ absoluteTimeoutMs: 60 * DAY });
    const phone = await h.sessions.load(h.request());
    phone.set("cart", []).persist(30 * DAY);
    const phoneResult = await phone.commit();
    expect(phoneResult.headers.find(([n]) => n === "Set-Cookie")?.[1]).toContain(
      `Max-Age=${30 * 24 * 3600};`,
    );
    expect(phone.maxAgeMs).toBe(30 * DAY);

    const laptop = await h.sessions.load(h.request());
    const laptopResult = await laptop.set("cart", []).commit();
    expect(laptopResult.headers.find(([n]) => n === "Set-Cookie")?.[1]).not.toContain("Max-Age");
    expect(laptop.maxAgeMs).toBeUndefined();

    h.clock.advance(29 * DAY);
    expect((await h.sessions.load(h.request(h.cookieFrom(phoneResult.headers)))).isNew).toBe(false);
    expect((await h.sessions.load(h.request(h.cookieFrom(laptopResult.headers)))).isNew).toBe(true);
    h.clock.advance(2 * DAY);
    expect((await h.sessions.load(h.request(h.cookieFrom(phoneResult.headers)))).isNew).toBe(true);
  });

  it("persist() is capped by absoluteTimeoutMs, survives regenerate, and persist(false) ends it", async () => {
    const h = harness<V2>({ absoluteTimeoutMs: 7 * DAY });
    const session = await h.sessions.load(h.request());
    session.set("cart", []).persist(30 * DAY);
    const cookie = h.cookieFrom((await session.commit()).headers);
    expect(session.maxAgeMs).toBe(7 * DAY);

    const login = await h.sessions.load(h.request(cookie));
    login.regenerate({ keep: [] });
    const { headers } = await login.commit();
    expect(headers.find(([n]) => n === "Set-Cookie")?.[1]).toContain(`Max-Age=${7 * 24 * 3600};`);

    const forget = await h.sessions.load(h.request(h.cookieFrom(headers)));
    forget.persist(false);
    const after = await forget.commit();
    expect(after.outcome).toBe("updated");
    const setCookie = after.headers.find(([n]) => n === "Set-Cookie")?.[1];
    expect(setCookie).toMatch(/^__Host-sid=/);
    expect(setCookie).not.toContain("Max-Age");
    expect(forget.maxAgeMs).toBeUndefined();
  });

  it("persist() refuses what is not a positive whole number of ms or false", async () => {
    const h = harness<V2>();
    const session = await h.sessions.load(h.request());
    for (const value of [0, -1, 1.5, Number.NaN, true as unknown as number]) {
      expect(() => session.persist(value)).toThrow(TypeError);
    }
  });
});

const SECRET_FOR_TYPES = "evolve-test-secret-Qm9vbGVhbiBsb2dpYyBpcyBmdW4h";
