import { randomBytes } from "node:crypto";
import {
  CAPABILITY_NAMES,
  iterateKeys,
  type SessionRecord,
  type SessionStore,
  type StoreCapabilities,
} from "@sessionkit/core";
import {
  afterAll,
  afterEach,
  beforeEach,
  describe,
  it,
  type TestContext,
  expect as vitestExpect,
} from "vitest";

/**
 * Every assertion of the suite names the rule it checks: the test's own name,
 * which states the rule ("set(key, record, { ifVersion: 0 }) never overwrites a
 * live record"), unless the assertion passes a more precise message. A failure
 * then reads "<rule>: expected true to be false" instead of the bare matcher.
 */
const expect = Object.assign((actual: unknown, message?: string) => {
  const name = vitestExpect.getState().currentTestName ?? "";
  const rule = name.slice(name.lastIndexOf(" > ") + 3);
  return vitestExpect(actual, message ?? `contract rule broken: ${rule}`);
}, vitestExpect) as typeof vitestExpect;

/**
 * Raw inspection hooks: they read what the backend physically holds, bypassing
 * the store's own logic, so the suite can check a TTL really set in Redis or a
 * row really gone in Postgres.
 */
export interface StoreInspector<S extends SessionStore = SessionStore> {
  /** Whether anything at all is stored under `key` (expired or not). */
  exists?(store: S, key: string): Promise<boolean>;
  /**
   * The remaining native time-to-live of `key` in ms, as the backend counts it
   * (Redis `PTTL`), `null` if the key has none. Only for stores with native expiry.
   */
  ttlMs?(store: S, key: string): Promise<number | null>;
  /** Raw `expiresAt` as stored (epoch ms), for stores that keep it in a column. */
  storedExpiresAt?(store: S, key: string): Promise<number | null>;
}

/** Options of {@link describeStoreConformance} and of each group. */
export interface ConformanceOptions<S extends SessionStore = SessionStore> {
  /** Returns a fresh store, isolated from every other store it returned (own prefix, table or file). */
  createStore(): S | Promise<S>;
  /** Called after each test with the store it used. Default: `store.close?.()`. */
  teardown?(store: S): void | Promise<void>;
  /** Raw inspection hooks; each check that needs one is skipped, with the reason, when absent. */
  inspect?: StoreInspector<S>;
  /**
   * How long to wait for a record to expire after its `expiresAt`, in ms: stores
   * whose expiry runs on the server's own timer may need a small margin.
   * @default 60
   */
  expiryGraceMs?: number;
}

/** A conformance group: registers vitest tests when called inside a test file. */
export type ConformanceGroup = <S extends SessionStore>(options: ConformanceOptions<S>) => void;

/** A random store key of the form core derives: 64 lowercase hex characters. */
export function randomKey(): string {
  return randomBytes(32).toString("hex");
}

/** A valid record expiring `ttlMs` from now. */
export function makeRecord(overrides: Partial<SessionRecord> = {}, ttlMs = 60_000): SessionRecord {
  const now = Date.now();
  return {
    payload: JSON.stringify({ cart: [1, 2, 3], csrf: randomBytes(16).toString("base64url") }),
    createdAt: now,
    expiresAt: now + ttlMs,
    version: 1,
    ...overrides,
  };
}

/**
 * Lifetime of records a test waits to see expire, in ms: long enough that a
 * write and a read back always fit inside it on a loaded machine (a
 * Sentinel round trip on two busy cores), short enough to keep the suite fast.
 */
const SHORT_TTL_MS = 500;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Why tests were skipped, per group: printed once after the group, so the
 * reasons show with vitest's default reporter too (it prints only a count).
 */
const skipReasons = new Map<string, number>();

function skipWith(ctx: TestContext, reason: string): void {
  skipReasons.set(reason, (skipReasons.get(reason) ?? 0) + 1);
  ctx.skip(reason);
}

/** Registers a per-test store with set-up and tear-down; returns a getter for it. */
function useStore<S extends SessionStore>(options: ConformanceOptions<S>): () => S {
  let store: S | undefined;
  afterAll(() => {
    if (skipReasons.size === 0) return;
    const lines = [...skipReasons].map(([reason, count]) => `  - ${count} skipped: ${reason}`);
    skipReasons.clear();
    console.warn(`conformance: tests skipped, and why:\n${lines.join("\n")}`);
  });
  beforeEach(async () => {
    store = await options.createStore();
  });
  afterEach(async () => {
    const current = store;
    store = undefined;
    if (current === undefined) return;
    if (options.teardown) await options.teardown(current);
    else await current.close?.();
  });
  return () => {
    if (store === undefined) throw new Error("conformance: store used outside a test");
    return store;
  };
}

function requireCapability(
  ctx: TestContext,
  store: SessionStore,
  capability: keyof StoreCapabilities,
): void {
  if (!store.capabilities[capability]) {
    skipWith(ctx, `store "${store.name}" does not declare the "${capability}" capability`);
  }
}

function requireHook<S extends SessionStore, K extends keyof StoreInspector<S>>(
  ctx: TestContext,
  inspect: StoreInspector<S> | undefined,
  hook: K,
  store?: SessionStore,
): NonNullable<StoreInspector<S>[K]> {
  const fn = inspect?.[hook];
  if (fn === undefined && hook === "ttlMs" && store?.capabilities.gc === true) {
    skipWith(
      ctx,
      `store "${store.name}" keeps expiry in its data (it declares gc): no native TTL to check`,
    );
  }
  if (fn === undefined) {
    skipWith(ctx, `no inspect.${String(hook)} hook was given to the conformance suite`);
  }
  return fn as NonNullable<StoreInspector<S>[K]>;
}

/** Compare records field by field, treating an absent `userId` and `undefined` alike. */
function expectRecord(actual: SessionRecord | null, expected: SessionRecord): void {
  expect(actual, "get(key) must return the record last written (it returned null)").not.toBeNull();
  const a = actual as SessionRecord;
  expect({
    payload: a.payload,
    expiresAt: a.expiresAt,
    createdAt: a.createdAt,
    version: a.version,
    userId: a.userId ?? null,
  }).toEqual({
    payload: expected.payload,
    expiresAt: expected.expiresAt,
    createdAt: expected.createdAt,
    version: expected.version,
    userId: expected.userId ?? null,
  });
}

/** The manifest is frozen and matches the methods present. */
export const manifestGroup: ConformanceGroup = (options) => {
  describe("manifest", () => {
    const store = useStore(options);

    it("capabilities is a frozen object with a boolean for every capability", () => {
      const caps = store().capabilities;
      expect(Object.isFrozen(caps)).toBe(true);
      for (const name of CAPABILITY_NAMES) expect(typeof caps[name]).toBe("boolean");
      expect(typeof store().name).toBe("string");
      expect(store().name.length).toBeGreaterThan(0);
    });

    it("every declared capability has its method, and every method its capability", () => {
      const s = store() as unknown as Record<string, unknown>;
      const methods: Record<keyof StoreCapabilities, string[]> = {
        touch: ["touch"],
        rename: ["rename"],
        userIndex: ["listByUser", "destroyByUser"],
        count: ["count"],
        clear: ["clear"],
        keys: ["keys"],
        gc: ["gc"],
        close: ["close"],
      };
      for (const name of CAPABILITY_NAMES) {
        for (const method of methods[name]) {
          expect(
            typeof s[method] === "function",
            `capability "${name}" is ${store().capabilities[name]} but method ${method}() is ${typeof s[method]}`,
          ).toBe(store().capabilities[name]);
        }
      }
      for (const method of ["get", "set", "destroy"]) expect(typeof s[method]).toBe("function");
    });
  });
};

/** get, set (create and compare-and-set) and destroy. */
export const basicGroup: ConformanceGroup = (options) => {
  describe("basic", () => {
    const store = useStore(options);

    it("get(key) returns null for an unknown key", async () => {
      expect(await store().get(randomKey())).toBeNull();
    });

    it("set(key, record, { ifVersion: 0 }) creates a record that get(key) returns unchanged", async () => {
      const key = randomKey();
      const record = makeRecord();
      expect(await store().set(key, record, { ifVersion: 0 })).toBe(true);
      expectRecord(await store().get(key), record);
    });

    it("set(key, record) keeps userId, and its absence", async () => {
      const withUser = randomKey();
      const anonymous = randomKey();
      const record = makeRecord({ userId: "user-42" });
      await store().set(withUser, record, { ifVersion: 0 });
      await store().set(anonymous, makeRecord(), { ifVersion: 0 });
      expect((await store().get(withUser))?.userId).toBe("user-42");
      expect((await store().get(anonymous))?.userId).toBeUndefined();
    });

    it("set(key, record, { ifVersion: 0 }) returns false and changes nothing when the key exists", async () => {
      const key = randomKey();
      const first = makeRecord({ payload: '"first"' });
      await store().set(key, first, { ifVersion: 0 });
      expect(
        await store().set(key, makeRecord({ payload: '"second"' }), { ifVersion: 0 }),
        "set(key, record, { ifVersion: 0 }) must not overwrite a live record: it must return false",
      ).toBe(false);
      expectRecord(await store().get(key), first);
    });

    it("set(key, record, { ifVersion: n }) replaces the record at version n", async () => {
      const key = randomKey();
      const first = makeRecord();
      await store().set(key, first, { ifVersion: 0 });
      const second = { ...first, payload: '{"changed":true}', version: 2, userId: "u1" };
      expect(await store().set(key, second, { ifVersion: 1 })).toBe(true);
      expectRecord(await store().get(key), second);
    });

    it("set(key, record, { ifVersion: n }) returns false and changes nothing at another version", async () => {
      const key = randomKey();
      const first = makeRecord({ version: 3 });
      await store().set(key, first, { ifVersion: 0 });
      expect(
        await store().set(key, { ...first, payload: '"late"', version: 3 }, { ifVersion: 2 }),
        "set(key, record, { ifVersion: n }) must not overwrite a record at another version",
      ).toBe(false);
      expectRecord(await store().get(key), first);
    });

    it("set(key, record, { ifVersion: n }) never recreates a missing or destroyed record", async () => {
      const key = randomKey();
      expect(
        await store().set(key, makeRecord({ version: 2 }), { ifVersion: 1 }),
        "set(key, record, { ifVersion: n }) must not create a missing record",
      ).toBe(false);
      expect(await store().get(key)).toBeNull();
      const record = makeRecord();
      await store().set(key, record, { ifVersion: 0 });
      await store().destroy(key);
      expect(
        await store().set(key, { ...record, version: 2 }, { ifVersion: 1 }),
        "set(key, record, { ifVersion: n }) must not resurrect a destroyed record",
      ).toBe(false);
      expect(await store().get(key)).toBeNull();
    });

    it("destroy(key) removes the record, physically", async (ctx) => {
      const key = randomKey();
      await store().set(key, makeRecord(), { ifVersion: 0 });
      await store().destroy(key);
      expect(await store().get(key)).toBeNull();
      if (options.inspect?.exists) {
        expect(await options.inspect.exists(store(), key)).toBe(false);
      } else {
        ctx.annotate?.("no inspect.exists hook: physical removal not checked");
      }
    });

    it("destroy(key) of an unknown key resolves", async () => {
      await expect(store().destroy(randomKey())).resolves.toBeUndefined();
    });

    it("records under different keys are independent", async () => {
      const a = randomKey();
      const b = randomKey();
      const ra = makeRecord({ payload: '"a"' });
      const rb = makeRecord({ payload: '"b"' });
      await store().set(a, ra, { ifVersion: 0 });
      await store().set(b, rb, { ifVersion: 0 });
      await store().destroy(a);
      expect(await store().get(a)).toBeNull();
      expectRecord(await store().get(b), rb);
    });

    it("payload round-trips exactly: Unicode, quotes, backslashes, JSON look-alikes", async () => {
      const payloads = [
        "",
        "{}",
        '{"a":"\\u0000 escaped NUL stays text"}',
        "emoji 🙂👩🏽‍💻, CJK 会话, RTL جلسة, combining é, BOM \uFEFF",
        "quotes ' \" ` and backslashes \\ \\\\ and newlines \n\r\t",
        "'; DROP TABLE sessions; --",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal "${y}" is the point
        "$1 $$ %s %d {{x}} ${y} \\x00",
        "a".repeat(64 * 1024),
      ];
      for (const payload of payloads) {
        const key = randomKey();
        await store().set(key, makeRecord({ payload }), { ifVersion: 0 });
        expect((await store().get(key))?.payload).toBe(payload);
      }
    });

    it("set(key, record) rejects a NUL or lone surrogate with INVALID_DATA and keeps the prior record", async () => {
      const key = randomKey();
      const record = makeRecord();
      await store().set(key, record, { ifVersion: 0 });
      for (const bad of ["nul \u0000 inside", "lone \uD800 high", "lone \uDC00 low"]) {
        const attempts = [
          store().set(key, { ...record, payload: bad, version: 2 }, { ifVersion: 1 }),
          store().set(key, { ...record, userId: bad, version: 2 }, { ifVersion: 1 }),
          store().set(randomKey(), { ...record, payload: bad }, { ifVersion: 0 }),
        ];
        for (const attempt of attempts) {
          await expect(attempt).rejects.toMatchObject({
            name: "SessionError",
            code: "INVALID_DATA",
          });
        }
      }
      expectRecord(await store().get(key), record);
    });

    it("set(key, record) rejects a malformed key or record with a TypeError", async () => {
      await expect(store().set("not-a-key", makeRecord(), { ifVersion: 0 })).rejects.toBeInstanceOf(
        TypeError,
      );
      await expect(store().get("../../etc/passwd")).rejects.toBeInstanceOf(TypeError);
      await expect(
        store().set(randomKey(), makeRecord({ expiresAt: Number.NaN }), { ifVersion: 0 }),
      ).rejects.toBeInstanceOf(TypeError);
    });

    it("user ids round-trip exactly, including hostile ones", async () => {
      for (const userId of ["__proto__", "constructor", "a:b{c}*?", "ユーザー", "x".repeat(256)]) {
        const key = randomKey();
        await store().set(key, makeRecord({ userId }), { ifVersion: 0 });
        expect((await store().get(key))?.userId).toBe(userId);
      }
    });

    it("returned records are copies: mutating one does not change the store", async () => {
      const key = randomKey();
      const record = makeRecord();
      await store().set(key, record, { ifVersion: 0 });
      const loaded = (await store().get(key)) as { -readonly [K in keyof SessionRecord]: unknown };
      loaded.payload = "mutated";
      loaded.version = 99;
      expectRecord(await store().get(key), record);
    });
  });
};

/** Expiry: an expired record is never returned, never updated, and gone physically. */
export const expiryGroup: ConformanceGroup = (options) => {
  const grace = options.expiryGraceMs ?? 60;
  describe("expiry", () => {
    const store = useStore(options);

    it("get(key) returns null once expiresAt has passed", async () => {
      const key = randomKey();
      await store().set(key, makeRecord({}, SHORT_TTL_MS), { ifVersion: 0 });
      expect(await store().get(key)).not.toBeNull();
      await sleep(SHORT_TTL_MS + grace);
      expect(await store().get(key)).toBeNull();
    });

    it("set(key, record) with expiresAt in the past stores nothing", async (ctx) => {
      const key = randomKey();
      await store().set(key, makeRecord({}, -1_000), { ifVersion: 0 });
      expect(await store().get(key)).toBeNull();
      const exists = requireHook(ctx, options.inspect, "exists");
      expect(await exists(store(), key)).toBe(false);
    });

    it("set(key, record) with a past expiresAt deletes the live record it replaces", async () => {
      const key = randomKey();
      const record = makeRecord();
      await store().set(key, record, { ifVersion: 0 });
      await store().set(
        key,
        { ...record, version: 2, expiresAt: Date.now() - 1 },
        { ifVersion: 1 },
      );
      expect(await store().get(key)).toBeNull();
    });

    it("set(key, record, { ifVersion: n }) does not update an expired record", async () => {
      const key = randomKey();
      const record = makeRecord({}, SHORT_TTL_MS);
      await store().set(key, record, { ifVersion: 0 });
      await sleep(SHORT_TTL_MS + grace);
      const later = { ...record, version: 2, expiresAt: Date.now() + 60_000 };
      expect(await store().set(key, later, { ifVersion: 1 })).toBe(false);
      expect(await store().get(key)).toBeNull();
    });

    it("set(key, record, { ifVersion: 0 }) treats an expired record as absent", async () => {
      const key = randomKey();
      await store().set(key, makeRecord({}, SHORT_TTL_MS), { ifVersion: 0 });
      await sleep(SHORT_TTL_MS + grace);
      const fresh = makeRecord({ payload: '"fresh"' });
      expect(await store().set(key, fresh, { ifVersion: 0 })).toBe(true);
      expectRecord(await store().get(key), fresh);
    });

    it("every write sets a native TTL matching expiresAt", async (ctx) => {
      const ttlMs = requireHook(ctx, options.inspect, "ttlMs", store());
      const key = randomKey();
      const record = makeRecord({}, 30_000);
      await store().set(key, record, { ifVersion: 0 });
      const ttl = await ttlMs(store(), key);
      expect(ttl).not.toBeNull();
      expect(ttl as number).toBeGreaterThan(25_000);
      expect(ttl as number).toBeLessThanOrEqual(30_000);
      await store().set(
        key,
        { ...record, version: 2, expiresAt: Date.now() + 90_000 },
        {
          ifVersion: 1,
        },
      );
      expect((await ttlMs(store(), key)) as number).toBeGreaterThan(85_000);
    });

    it("stored expiresAt matches the record", async (ctx) => {
      const storedExpiresAt = requireHook(ctx, options.inspect, "storedExpiresAt");
      const key = randomKey();
      const record = makeRecord({}, 30_000);
      await store().set(key, record, { ifVersion: 0 });
      expect(await storedExpiresAt(store(), key)).toBe(record.expiresAt);
    });
  });
};

/** touch(): extends, never shortens, never recreates, never changes data. */
export const touchGroup: ConformanceGroup = (options) => {
  const grace = options.expiryGraceMs ?? 60;
  describe("touch", () => {
    const store = useStore(options);

    it("touch(key, expiresAt) extends expiresAt without changing data or version", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      const record = makeRecord({ userId: "u1" }, 10_000);
      await store().set(key, record, { ifVersion: 0 });
      const later = record.expiresAt + 50_000;
      expect(await store().touch?.(key, later)).toBe(true);
      expectRecord(await store().get(key), { ...record, expiresAt: later });
    });

    it("touch(key, expiresAt) never shortens", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      const record = makeRecord({}, 60_000);
      await store().set(key, record, { ifVersion: 0 });
      await store().touch?.(key, record.expiresAt - 30_000);
      expect((await store().get(key))?.expiresAt).toBe(record.expiresAt);
    });

    it("touch(key, expiresAt) keeps the record alive past its old expiry", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      const record = makeRecord({}, SHORT_TTL_MS);
      await store().set(key, record, { ifVersion: 0 });
      expect(await store().touch?.(key, Date.now() + 60_000)).toBe(true);
      await sleep(SHORT_TTL_MS + grace);
      expect((await store().get(key))?.payload).toBe(record.payload);
    });

    it("touch(key) returns false and creates nothing for an unknown or destroyed key", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      expect(await store().touch?.(key, Date.now() + 60_000)).toBe(false);
      expect(await store().get(key)).toBeNull();
      await store().set(key, makeRecord(), { ifVersion: 0 });
      await store().destroy(key);
      expect(await store().touch?.(key, Date.now() + 60_000)).toBe(false);
      expect(await store().get(key)).toBeNull();
      if (options.inspect?.exists) expect(await options.inspect.exists(store(), key)).toBe(false);
    });

    it("touch(key) does not revive an expired record", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      await store().set(key, makeRecord({}, SHORT_TTL_MS), { ifVersion: 0 });
      await sleep(SHORT_TTL_MS + grace);
      expect(await store().touch?.(key, Date.now() + 60_000)).toBe(false);
      expect(await store().get(key)).toBeNull();
    });

    it("touch(key, expiresAt, { ifVersion }) returns false at another version", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      const record = makeRecord({ version: 2 });
      await store().set(key, record, { ifVersion: 0 });
      expect(await store().touch?.(key, record.expiresAt + 10_000, { ifVersion: 1 })).toBe(false);
      expect((await store().get(key))?.expiresAt).toBe(record.expiresAt);
      expect(await store().touch?.(key, record.expiresAt + 10_000, { ifVersion: 2 })).toBe(true);
      expect((await store().get(key))?.expiresAt).toBe(record.expiresAt + 10_000);
    });

    it("touch(key) also extends the native TTL", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const ttlMs = requireHook(ctx, options.inspect, "ttlMs", store());
      const key = randomKey();
      await store().set(key, makeRecord({}, 10_000), { ifVersion: 0 });
      await store().touch?.(key, Date.now() + 120_000);
      expect((await ttlMs(store(), key)) as number).toBeGreaterThan(110_000);
    });
  });
};

/** Compare-and-set under contention: exactly one writer wins. */
export const compareAndSetGroup: ConformanceGroup = (options) => {
  describe("compare-and-set", () => {
    const store = useStore(options);

    it("of 20 concurrent set(key, …, { ifVersion: 1 }) exactly one succeeds", async () => {
      const key = randomKey();
      const record = makeRecord();
      await store().set(key, record, { ifVersion: 0 });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store().set(key, { ...record, payload: `"writer ${i}"`, version: 2 }, { ifVersion: 1 }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await store().get(key))?.payload).toBe(`"writer ${winner}"`);
    });

    it("of 20 concurrent creates of one key exactly one succeeds", async () => {
      const key = randomKey();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store().set(key, makeRecord({ payload: `"creator ${i}"` }), { ifVersion: 0 }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store().get(key))?.payload).toBe(`"creator ${results.indexOf(true)}"`);
    });

    it("a chain of 30 read-modify-write cycles loses no update", async () => {
      const key = randomKey();
      await store().set(key, makeRecord({ payload: "0" }), { ifVersion: 0 });
      const increment = async (): Promise<void> => {
        for (;;) {
          const current = await store().get(key);
          if (current === null) throw new Error("record vanished");
          const next = {
            ...current,
            payload: String(Number(current.payload) + 1),
            version: current.version + 1,
          };
          if (await store().set(key, next, { ifVersion: current.version })) return;
        }
      };
      await Promise.all(Array.from({ length: 30 }, increment));
      const final = await store().get(key);
      expect(final?.payload).toBe("30");
      expect(final?.version).toBe(31);
    });

    it("a write racing a destroy never resurrects the record", async () => {
      for (let i = 0; i < 10; i++) {
        const key = randomKey();
        const record = makeRecord();
        await store().set(key, record, { ifVersion: 0 });
        await Promise.all([
          store().destroy(key),
          store().set(key, { ...record, version: 2 }, { ifVersion: 1 }),
          store().touch?.(key, Date.now() + 60_000),
        ]);
        // Whatever the interleaving, the destroy is last to matter.
        await store().set(key, { ...record, version: 3 }, { ifVersion: 2 });
        expect(await store().get(key)).toBeNull();
      }
    });
  });
};

/** rename(): the atomic move behind regenerate(). */
export const renameGroup: ConformanceGroup = (options) => {
  describe("rename", () => {
    const store = useStore(options);

    it("rename(old, new, record) moves the session: old is gone, new holds record", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const oldKey = randomKey();
      const newKey = randomKey();
      const record = makeRecord({ userId: "u1" });
      await store().set(oldKey, record, { ifVersion: 0 });
      const moved = { ...record, payload: '"kept"', version: 2 };
      expect(await store().rename?.(oldKey, newKey, moved, { ifVersion: 1 })).toBe(true);
      expect(await store().get(oldKey)).toBeNull();
      expectRecord(await store().get(newKey), moved);
      if (options.inspect?.exists)
        expect(await options.inspect.exists(store(), oldKey)).toBe(false);
    });

    it("rename(old, …) returns false and creates nothing when old is missing", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const newKey = randomKey();
      expect(await store().rename?.(randomKey(), newKey, makeRecord())).toBe(false);
      expect(await store().get(newKey)).toBeNull();
    });

    it("rename(old, …, { ifVersion }) returns false and changes nothing at another version", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const oldKey = randomKey();
      const newKey = randomKey();
      const record = makeRecord({ version: 2 });
      await store().set(oldKey, record, { ifVersion: 0 });
      expect(await store().rename?.(oldKey, newKey, record, { ifVersion: 1 })).toBe(false);
      expectRecord(await store().get(oldKey), record);
      expect(await store().get(newKey)).toBeNull();
    });

    it("after rename(old, new), writes to old fail", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const oldKey = randomKey();
      const record = makeRecord();
      await store().set(oldKey, record, { ifVersion: 0 });
      await store().rename?.(oldKey, randomKey(), record);
      expect(await store().set(oldKey, { ...record, version: 2 }, { ifVersion: 1 })).toBe(false);
      expect(await store().get(oldKey)).toBeNull();
    });

    it("rename(old, new) rejects with a TypeError and changes nothing when new holds a live record", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const oldKey = randomKey();
      const newKey = randomKey();
      const moving = makeRecord({ payload: '"moving"' });
      const occupant = makeRecord({ payload: '"occupant"' });
      await store().set(oldKey, moving, { ifVersion: 0 });
      await store().set(newKey, occupant, { ifVersion: 0 });
      await expect(store().rename?.(oldKey, newKey, moving)).rejects.toBeInstanceOf(TypeError);
      expectRecord(await store().get(oldKey), moving);
      expectRecord(await store().get(newKey), occupant);
    });

    it("of 10 concurrent renames of one key exactly one succeeds", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const oldKey = randomKey();
      const record = makeRecord();
      await store().set(oldKey, record, { ifVersion: 0 });
      const targets = Array.from({ length: 10 }, randomKey);
      const results = await Promise.all(
        targets.map((key) => store().rename?.(oldKey, key, record, { ifVersion: 1 })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const live = await Promise.all(targets.map((key) => store().get(key)));
      expect(live.filter((r) => r !== null)).toHaveLength(1);
    });

    it("rename(old, new) sets the native TTL of new", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const ttlMs = requireHook(ctx, options.inspect, "ttlMs", store());
      const oldKey = randomKey();
      const newKey = randomKey();
      const record = makeRecord({}, 40_000);
      await store().set(oldKey, record, { ifVersion: 0 });
      await store().rename?.(oldKey, newKey, record);
      expect((await ttlMs(store(), newKey)) as number).toBeGreaterThan(35_000);
    });
  });
};

/** Per-user index: list, destroy all, destroy all but one; correct as sessions change and expire. */
export const userIndexGroup: ConformanceGroup = (options) => {
  const grace = options.expiryGraceMs ?? 60;
  describe("user index", () => {
    const store = useStore(options);
    const userId = () => `user-${randomBytes(6).toString("hex")}`;

    it("listByUser(userId) returns the user's live sessions only", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      const alice = userId();
      const keys = [randomKey(), randomKey(), randomKey()];
      for (const key of keys)
        await store().set(key, makeRecord({ userId: alice }), { ifVersion: 0 });
      await store().set(randomKey(), makeRecord({ userId: userId() }), { ifVersion: 0 });
      await store().set(randomKey(), makeRecord(), { ifVersion: 0 });
      const listed = await store().listByUser?.(alice);
      expect(listed?.map((s) => s.key).sort()).toEqual([...keys].sort());
      for (const entry of listed ?? []) expect(entry.record.userId).toBe(alice);
    });

    it("listByUser(userId) returns [] for an unknown user", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      expect(await store().listByUser?.(userId())).toEqual([]);
    });

    it("listByUser(userId) drops destroyed, expired and re-assigned sessions", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      const alice = userId();
      const [kept, destroyed, expiring, moved] = [
        randomKey(),
        randomKey(),
        randomKey(),
        randomKey(),
      ];
      await store().set(kept, makeRecord({ userId: alice }), { ifVersion: 0 });
      await store().set(destroyed, makeRecord({ userId: alice }), { ifVersion: 0 });
      await store().set(expiring, makeRecord({ userId: alice }, SHORT_TTL_MS), { ifVersion: 0 });
      const movedRecord = makeRecord({ userId: alice });
      await store().set(moved, movedRecord, { ifVersion: 0 });
      await store().destroy(destroyed);
      await store().set(
        moved,
        { ...movedRecord, userId: "someone-else", version: 2 },
        { ifVersion: 1 },
      );
      await sleep(SHORT_TTL_MS + grace);
      expect((await store().listByUser?.(alice))?.map((s) => s.key)).toEqual([kept]);
    });

    it("listByUser(userId) follows a rename", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      requireCapability(ctx, store(), "rename");
      const alice = userId();
      const oldKey = randomKey();
      const newKey = randomKey();
      const record = makeRecord({ userId: alice });
      await store().set(oldKey, record, { ifVersion: 0 });
      await store().rename?.(oldKey, newKey, record);
      expect((await store().listByUser?.(alice))?.map((s) => s.key)).toEqual([newKey]);
    });

    it("destroyByUser(userId) destroys every session of the user and no other", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      const alice = userId();
      const bobKey = randomKey();
      const aliceKeys = [randomKey(), randomKey(), randomKey()];
      for (const key of aliceKeys)
        await store().set(key, makeRecord({ userId: alice }), { ifVersion: 0 });
      await store().set(bobKey, makeRecord({ userId: userId() }), { ifVersion: 0 });
      expect(await store().destroyByUser?.(alice)).toBe(3);
      for (const key of aliceKeys) expect(await store().get(key)).toBeNull();
      expect(await store().get(bobKey)).not.toBeNull();
      expect(await store().listByUser?.(alice)).toEqual([]);
    });

    it("destroyByUser(userId, { exceptKey }) keeps that one session", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      const alice = userId();
      const current = randomKey();
      const others = [randomKey(), randomKey()];
      await store().set(current, makeRecord({ userId: alice }), { ifVersion: 0 });
      for (const key of others)
        await store().set(key, makeRecord({ userId: alice }), { ifVersion: 0 });
      expect(await store().destroyByUser?.(alice, { exceptKey: current })).toBe(2);
      expect(await store().get(current)).not.toBeNull();
      for (const key of others) expect(await store().get(key)).toBeNull();
      expect((await store().listByUser?.(alice))?.map((s) => s.key)).toEqual([current]);
    });

    it("a destroyed session cannot be written back after destroyByUser", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      const alice = userId();
      const key = randomKey();
      const record = makeRecord({ userId: alice });
      await store().set(key, record, { ifVersion: 0 });
      await store().destroyByUser?.(alice);
      expect(await store().set(key, { ...record, version: 2 }, { ifVersion: 1 })).toBe(false);
      expect(await store().listByUser?.(alice)).toEqual([]);
    });
  });
};

/** count, clear and cursor-based keys. */
export const listingGroup: ConformanceGroup = (options) => {
  describe("listing", () => {
    const store = useStore(options);

    it("count() counts live sessions", async (ctx) => {
      requireCapability(ctx, store(), "count");
      expect(await store().count?.()).toBe(0);
      for (let i = 0; i < 5; i++) await store().set(randomKey(), makeRecord(), { ifVersion: 0 });
      const doomed = randomKey();
      await store().set(doomed, makeRecord(), { ifVersion: 0 });
      await store().destroy(doomed);
      expect(await store().count?.()).toBe(5);
    });

    it("clear() removes every session of this store", async (ctx) => {
      requireCapability(ctx, store(), "clear");
      const keys = Array.from({ length: 5 }, randomKey);
      for (const key of keys) await store().set(key, makeRecord({ userId: "u" }), { ifVersion: 0 });
      await store().clear?.();
      for (const key of keys) expect(await store().get(key)).toBeNull();
      if (store().capabilities.count) expect(await store().count?.()).toBe(0);
      if (store().capabilities.userIndex) expect(await store().listByUser?.("u")).toEqual([]);
    });

    it("clear() leaves other stores alone", async (ctx) => {
      requireCapability(ctx, store(), "clear");
      const other = await options.createStore();
      try {
        const key = randomKey();
        await other.set(key, makeRecord(), { ifVersion: 0 });
        await store().clear?.();
        expect(await other.get(key)).not.toBeNull();
      } finally {
        if (options.teardown) await options.teardown(other);
        else await other.close?.();
      }
    });

    it("keys() pages through every key with a cursor", async (ctx) => {
      requireCapability(ctx, store(), "keys");
      const keys = Array.from({ length: 25 }, randomKey);
      for (const key of keys) await store().set(key, makeRecord(), { ifVersion: 0 });
      const seen = new Set<string>();
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Awaited<ReturnType<NonNullable<SessionStore["keys"]>>> = await (store().keys?.({
          cursor,
          limit: 10,
        }) ?? Promise.reject(new Error("no keys()")));
        for (const key of page.keys) seen.add(key);
        cursor = page.cursor;
        pages++;
        expect(pages).toBeLessThan(1_000);
      } while (cursor !== null);
      expect([...seen].sort()).toEqual([...keys].sort());
      expect(pages).toBeGreaterThan(1);
    });

    it("keys() returns only this store's live keys", async (ctx) => {
      requireCapability(ctx, store(), "keys");
      const live = randomKey();
      const gone = randomKey();
      await store().set(live, makeRecord(), { ifVersion: 0 });
      await store().set(gone, makeRecord(), { ifVersion: 0 });
      await store().destroy(gone);
      const all: string[] = [];
      for await (const key of iterateKeys(store())) all.push(key);
      expect(all).toEqual([live]);
    });
  });
};

/** gc() for stores without native expiry. */
export const gcGroup: ConformanceGroup = (options) => {
  const grace = options.expiryGraceMs ?? 60;
  describe("gc", () => {
    const store = useStore(options);

    it("gc() deletes expired records and keeps live ones", async (ctx) => {
      requireCapability(ctx, store(), "gc");
      const expired = Array.from({ length: 5 }, randomKey);
      const live = randomKey();
      for (const key of expired)
        await store().set(key, makeRecord({}, SHORT_TTL_MS), { ifVersion: 0 });
      await store().set(live, makeRecord(), { ifVersion: 0 });
      await sleep(SHORT_TTL_MS + grace);
      expect(await store().gc?.()).toBeGreaterThanOrEqual(5);
      expect(await store().get(live)).not.toBeNull();
      if (options.inspect?.exists) {
        for (const key of expired) expect(await options.inspect.exists(store(), key)).toBe(false);
      }
      expect(await store().gc?.()).toBe(0);
    });
  });
};

/** Many operations in flight at once. */
export const concurrencyGroup: ConformanceGroup = (options) => {
  describe("concurrency", () => {
    const store = useStore(options);

    it("200 concurrent creates, reads and destroys on distinct keys all complete correctly", async () => {
      const keys = Array.from({ length: 200 }, randomKey);
      const records = keys.map((_, i) => makeRecord({ payload: `"${i}"` }));
      expect(
        await Promise.all(
          keys.map((key, i) => store().set(key, records[i] as SessionRecord, { ifVersion: 0 })),
        ),
      ).toEqual(keys.map(() => true));
      const loaded = await Promise.all(keys.map((key) => store().get(key)));
      for (const [i, record] of loaded.entries()) expect(record?.payload).toBe(`"${i}"`);
      await Promise.all(keys.filter((_, i) => i % 2 === 0).map((key) => store().destroy(key)));
      const after = await Promise.all(keys.map((key) => store().get(key)));
      for (const [i, record] of after.entries()) expect(record === null).toBe(i % 2 === 0);
    });
  });
};

/** Every group, in order. */
export const conformanceGroups = {
  manifest: manifestGroup,
  basic: basicGroup,
  expiry: expiryGroup,
  touch: touchGroup,
  compareAndSet: compareAndSetGroup,
  rename: renameGroup,
  userIndex: userIndexGroup,
  listing: listingGroup,
  gc: gcGroup,
  concurrency: concurrencyGroup,
} as const satisfies Record<string, ConformanceGroup>;

/**
 * Registers the whole store contract as vitest tests. Call it at the top level
 * of a test file.
 *
 * @example
 * ```ts
 * import { describeStoreConformance } from "@sessionkit/conformance";
 * import { createMemoryStore } from "@sessionkit/store-memory";
 *
 * describeStoreConformance("memory", { createStore: () => createMemoryStore() });
 * ```
 */
export function describeStoreConformance<S extends SessionStore>(
  name: string,
  options: ConformanceOptions<S>,
): void {
  describe(`store conformance: ${name}`, () => {
    for (const group of Object.values(conformanceGroups)) group(options);
  });
}
