import { spawnSync } from "node:child_process";
import { makeRecord, randomKey } from "@sessionkit/conformance";
import { createStoreRegistry, type SessionRecord } from "@sessionkit/core";
import {
  createMemoryStore,
  type MemoryStoreOptions,
  memoryProvider,
  parseMemoryUrl,
} from "@sessionkit/store-memory";
import { afterEach, describe, expect, it, vi } from "vitest";

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

const thrown = (call: () => unknown): unknown => {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe("createMemoryStore() (A34)", () => {
  it("holds at most maxEntries, dropping the least recently used", async () => {
    const store = createMemoryStore({ maxEntries: 3, gcIntervalMs: false });
    const [a, b, c, d] = [randomKey(), randomKey(), randomKey(), randomKey()] as const;
    for (const key of [a, b, c]) await store.set(key, makeRecord(), { ifVersion: 0 });
    await store.get(a);
    await store.set(d, makeRecord(), { ifVersion: 0 });
    expect(await store.count()).toBe(3);
    expect(await store.get(b)).toBeNull();
    expect(await store.get(a)).not.toBeNull();
    expect(await store.get(c)).not.toBeNull();
    expect(await store.get(d)).not.toBeNull();
  });

  it("evicts in order of use across random sequences of every write and read, as a reference model does", async () => {
    // A small seeded generator: each seed is one reproducible sequence.
    const generator = (seed: number) => () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
    const keys = Array.from({ length: 8 }, () => randomKey());
    const users = ["ann", "bob", undefined];
    for (let seed = 1; seed <= 20; seed++) {
      const random = generator(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
      let now = 1_000_000;
      const store = createMemoryStore({ maxEntries: 4, gcIntervalMs: false, now: () => now });
      // The model: live records, least recently used first.
      let model: { key: string; record: SessionRecord }[] = [];
      const find = (key: string) => model.find((entry) => entry.key === key);
      const drop = (key: string) => {
        model = model.filter((entry) => entry.key !== key);
      };
      const live = (key: string) => {
        const entry = find(key);
        if (entry !== undefined && entry.record.expiresAt <= now) drop(key);
        return entry !== undefined && entry.record.expiresAt > now ? entry : undefined;
      };
      const put = (key: string, record: SessionRecord) => {
        drop(key);
        if (record.expiresAt <= now) return;
        model.push({ key, record });
        while (model.length > 4) model.shift();
      };
      for (let step = 0; step < 300; step++) {
        const key = pick(keys);
        const operation = pick(["get", "set", "set", "destroy", "touch", "rename", "tick"]);
        if (operation === "get") {
          const entry = live(key);
          if (entry !== undefined) put(key, entry.record);
          expect((await store.get(key))?.version).toBe(entry?.record.version);
        } else if (operation === "set") {
          const version = live(key)?.record.version ?? 0;
          const userId = pick(users);
          const record = makeRecord(
            { version: version + 1, ...(userId === undefined ? {} : { userId }) },
            Math.floor(random() * 3_000),
            now,
          );
          put(key, record);
          expect(await store.set(key, record, { ifVersion: version })).toBe(true);
        } else if (operation === "destroy") {
          drop(key);
          await store.destroy(key);
        } else if (operation === "touch") {
          const current = live(key)?.record;
          const expiresAt = now + Math.floor(random() * 3_000);
          if (current !== undefined && expiresAt > current.expiresAt) {
            put(key, { ...current, expiresAt });
          }
          expect(await store.touch(key, expiresAt)).toBe(current !== undefined);
        } else if (operation === "rename") {
          const to = pick(keys.filter((other) => other !== key));
          const current = live(key)?.record;
          const next = makeRecord({ version: (current?.version ?? 0) + 1 }, 2_000, now);
          const renamed = store.rename(key, to, next).catch((error: unknown) => error);
          if (current === undefined) expect(await renamed).toBe(false);
          else if (live(to) !== undefined) expect(await renamed).toBeInstanceOf(TypeError);
          else {
            drop(key);
            put(to, next);
            expect(await renamed).toBe(true);
          }
        } else {
          now += Math.floor(random() * 1_000);
        }
        const expected = model.filter((entry) => entry.record.expiresAt > now);
        const listed = await store.keys({ limit: 10 });
        expect(listed.keys).toEqual(expected.map((entry) => entry.key).sort());
        for (const userId of ["ann", "bob"]) {
          const owned = expected.filter((entry) => entry.record.userId === userId);
          // listByUser deletes the user's expired records, as every read does.
          for (const entry of [...model]) if (entry.record.userId === userId) live(entry.key);
          const found = await store.listByUser(userId);
          expect(found.map((session) => session.key).sort()).toEqual(
            owned.map((entry) => entry.key).sort(),
          );
        }
      }
      await store.close();
    }
  });

  it("get(key) reads the now option at call time and deletes an expired record, so a clock going back revives nothing (A20)", async () => {
    let now = 1_000_000;
    const store = createMemoryStore({ gcIntervalMs: false, now: () => now });
    const key = randomKey();
    await store.set(key, makeRecord({ createdAt: now, expiresAt: now + 100 }), { ifVersion: 0 });
    now += 99;
    expect(await store.get(key)).not.toBeNull();
    now += 101;
    expect(await store.get(key)).toBeNull();
    now -= 200;
    expect(await store.get(key)).toBeNull();
    expect(await store.count()).toBe(0);
  });

  it("keys({ cursor }) rejects a cursor keys() never returned with a TypeError", async () => {
    const store = createMemoryStore({ gcIntervalMs: false });
    await expect(store.keys({ cursor: "x' OR 1=1 --" })).rejects.toBeInstanceOf(TypeError);
  });
});

describe("gc timer (A34)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("gcIntervalMs arms one gc timer, close() stops it, and false arms none", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const store = createMemoryStore({ gcIntervalMs: 1_000 });
    expect(vi.getTimerCount()).toBe(1);
    await store.close();
    expect(vi.getTimerCount()).toBe(0);
    const off = createMemoryStore({ gcIntervalMs: false });
    expect(vi.getTimerCount()).toBe(0);
    await off.close();
  });

  it("a gc pass removes what expired by the now clock", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let now = 1_000_000;
    const store = createMemoryStore({ gcIntervalMs: 1_000, now: () => now });
    const record = makeRecord({ createdAt: now, expiresAt: now + 100, userId: "u1" });
    for (let i = 0; i < 3; i++) await store.set(randomKey(), record, { ifVersion: 0 });
    now += 200;
    // Jitter is ±10%: 1,100 ms is past any first deadline.
    await vi.advanceTimersByTimeAsync(1_100);
    // Moving the clock back would revive what was not pruned: nothing is left to revive.
    now -= 200;
    expect(await store.listByUser("u1")).toEqual([]);
    expect(await store.count()).toBe(0);
    await store.close();
  });

  it("the gc timer never keeps the process alive", () => {
    const script = `
      import { createMemoryStore } from "@sessionkit/store-memory";
      createMemoryStore({ gcIntervalMs: 10 });
      console.log("started");
    `;
    const child = spawnSync(
      process.execPath,
      ["--conditions=dev-source", "--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: new URL("..", import.meta.url).pathname,
        timeout: 15_000,
        encoding: "utf8",
      },
    );
    expect(child.stdout.trim()).toBe("started");
    expect(child.status).toBe(0);
  });
});

describe("options", () => {
  it("createMemoryStore() rejects each bad or unknown option with INVALID_CONFIG naming it", () => {
    const bad: [unknown, string][] = [
      [null, "options"],
      ["memory:", "options"],
      [{ maxEntries: 0 }, "maxEntries"],
      [{ maxEntries: 1.5 }, "maxEntries"],
      [{ maxEntries: "10" }, "maxEntries"],
      [{ gcIntervalMs: -1 }, "gcIntervalMs"],
      [{ gcIntervalMs: 0 }, "gcIntervalMs"],
      [{ gcIntervalMs: true }, "gcIntervalMs"],
      [{ now: 5 }, "now"],
      [{ onError: "warn" }, "onError"],
      [{ operationTimeoutMs: 100 }, "operationTimeoutMs"],
      [{ sweepIntervalMs: false }, "sweepIntervalMs"],
    ];
    for (const [options, named] of bad) {
      const error = thrown(() => createMemoryStore(options as MemoryStoreOptions));
      expect(error, JSON.stringify(options)).toMatchObject({
        name: "SessionError",
        code: "INVALID_CONFIG",
        store: "memory",
      });
      expect((error as Error).message).toContain(named);
    }
  });
});

describe("memory: URLs", () => {
  it("parseMemoryUrl(url) reads maxEntries and gcIntervalMs", () => {
    expect(parseMemoryUrl("memory:")).toEqual({});
    expect(parseMemoryUrl("memory:?maxEntries=1000&gcIntervalMs=false")).toEqual({
      maxEntries: 1000,
      gcIntervalMs: false,
    });
    expect(parseMemoryUrl("MEMORY:?gcIntervalMs=5000")).toEqual({ gcIntervalMs: 5000 });
  });

  it("parseMemoryUrl(url) rejects a path and unknown, repeated or malformed parameters with INVALID_CONFIG", () => {
    for (const url of [
      "redis://localhost",
      "memory:sessions",
      "memory:?sweepIntervalMs=false",
      "memory:?maxEntries=1&maxEntries=2",
      "memory:?maxEntries=ten",
      "memory:?gcIntervalMs=-5",
    ]) {
      expect(
        thrown(() => parseMemoryUrl(url)),
        url,
      ).toMatchObject({ code: "INVALID_CONFIG" });
    }
  });

  it("memoryProvider opens memory: URLs with their options through a registry", async () => {
    const registry = createStoreRegistry().register(memoryProvider);
    const store = await registry.open("memory:?maxEntries=1&gcIntervalMs=false");
    await store.set(randomKey(), makeRecord(), { ifVersion: 0 });
    await store.set(randomKey(), makeRecord(), { ifVersion: 0 });
    expect(await store.count?.()).toBe(1);
    await store.close?.();
    const configured = await registry.open({ provider: "memory" });
    expect(configured.name).toBe("memory");
    await configured.close?.();
  });
});

// The reference answers of the review's Part C-1 matrix, which the memory
// store used to answer differently from the others (B-8). Core gives every
// store built on defineStore the same ones; conformance pins them for all.
describe("the contract's answers to bad calls (B-8)", () => {
  it("rejects bad arguments with TypeError, and an unstorable user id with INVALID_DATA", async () => {
    const store = createMemoryStore({ gcIntervalMs: false });
    const key = randomKey();
    await store.set(key, makeRecord(), { ifVersion: 0 });
    await expect(store.listByUser("")).rejects.toBeInstanceOf(TypeError);
    await expect(store.listByUser("a\uD800")).rejects.toMatchObject({ code: "INVALID_DATA" });
    await expect(store.keys({ limit: 0 })).rejects.toBeInstanceOf(TypeError);
    await expect(store.keys({ limit: 5_000 })).rejects.toBeInstanceOf(TypeError);
    await expect(store.set(key, makeRecord(), { ifVersion: -1 })).rejects.toBeInstanceOf(TypeError);
    await expect(store.touch(key, Number.NaN)).rejects.toBeInstanceOf(TypeError);
    // None of them changed the record.
    expect((await store.get(key))?.version).toBe(1);
  });

  it("after close(), every method rejects with STORE_UNAVAILABLE, and close() again resolves (A30)", async () => {
    const store = createMemoryStore({ gcIntervalMs: false });
    const key = randomKey();
    await store.set(key, makeRecord({ userId: "u" }), { ifVersion: 0 });
    await store.close();
    const calls: [string, Promise<unknown>][] = [
      ["get", store.get(key)],
      ["set", store.set(randomKey(), makeRecord(), { ifVersion: 0 })],
      ["destroy", store.destroy(key)],
      ["touch", store.touch(key, Date.now() + 1_000)],
      ["rename", store.rename(key, randomKey(), makeRecord())],
      ["listByUser", store.listByUser("u")],
      ["destroyByUser", store.destroyByUser("u")],
      ["count", store.count()],
      ["clear", store.clear()],
      ["keys", store.keys()],
      ["gc", store.gc()],
    ];
    expect(calls).toHaveLength(11);
    for (const [operation, call] of calls) {
      expect(await rejection(call), operation).toMatchObject({
        name: "SessionError",
        code: "STORE_UNAVAILABLE",
        store: "memory",
        operation,
      });
    }
    await expect(store.close()).resolves.toBeUndefined();
  });
});
