import { ErrorCode, isSessionError, SessionError } from "@sessionkit/core";
import {
  defineStore,
  gcIntervalOption,
  MAX_KEYS_PAGE,
  migrateOption,
  readUrlParameters,
  resolveStoreOptions,
  type StoreBackend,
  type StoreErrorContext,
  storeArgumentError,
} from "@sessionkit/core/store";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { storeKeyOf } from "../src/signing.js";
import { isStorableText, isStoreKey } from "../src/store.js";
import { mapStore } from "./map-store.js";

const KEY = "a".repeat(64);
const OTHER = "b".repeat(64);
const record = (version = 1) => ({
  payload: "{}",
  createdAt: Date.now(),
  expiresAt: Date.now() + 60_000,
  version,
});

/** A backend whose every call answers with `answer()`: for wrapping behaviour. */
function backendAnswering(answer: () => Promise<never>): StoreBackend {
  return { get: answer, set: answer, destroy: answer };
}

/** Resolves with the rejection of `promise`, failing if it resolved. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

describe("defineStore(): one answer per call for every store", () => {
  it("derives the capability manifest from the backend's methods", () => {
    expect(mapStore().capabilities).toEqual({
      touch: true,
      rename: true,
      userIndex: true,
      count: true,
      clear: true,
      keys: true,
      gc: true,
      close: true,
    });
    const bare = mapStore({ without: ["touch", "rename", "destroyByUser", "keys", "gc"] });
    expect(bare.capabilities).toMatchObject({
      touch: false,
      rename: false,
      userIndex: false,
      keys: false,
      gc: false,
    });
    expect(bare.touch).toBeUndefined();
    expect(bare.listByUser).toBeUndefined();
  });

  it.each([
    ["get() with a malformed key", (s: ReturnType<typeof mapStore>) => s.get("nope")],
    [
      "set() with ifVersion -1",
      (s: ReturnType<typeof mapStore>) => s.set(KEY, record(), { ifVersion: -1 }),
    ],
    [
      "set() without options",
      (s: ReturnType<typeof mapStore>) => s.set(KEY, record(), undefined as never),
    ],
    [
      "set() with version 0",
      (s: ReturnType<typeof mapStore>) => s.set(KEY, record(0), { ifVersion: 0 }),
    ],
    [
      "touch() with NaN",
      (s: ReturnType<typeof mapStore>) => s.touch?.(KEY, Number.NaN) as Promise<boolean>,
    ],
    [
      "touch() with ifVersion 0",
      (s: ReturnType<typeof mapStore>) => s.touch?.(KEY, 1, { ifVersion: 0 }) as Promise<boolean>,
    ],
    [
      "rename() onto itself",
      (s: ReturnType<typeof mapStore>) => s.rename?.(KEY, KEY, record()) as Promise<boolean>,
    ],
    ['listByUser("")', (s: ReturnType<typeof mapStore>) => s.listByUser?.("") as Promise<unknown>],
    [
      "keys({ limit: 0 })",
      (s: ReturnType<typeof mapStore>) => s.keys?.({ limit: 0 }) as Promise<unknown>,
    ],
    [
      `keys({ limit: ${MAX_KEYS_PAGE + 1} })`,
      (s: ReturnType<typeof mapStore>) =>
        s.keys?.({ limit: MAX_KEYS_PAGE + 1 }) as Promise<unknown>,
    ],
  ])("%s rejects with a TypeError (never throws synchronously)", async (_name, call) => {
    const store = mapStore();
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = call(store);
    }).not.toThrow();
    expect(await rejection(promise as Promise<unknown>)).toBeInstanceOf(TypeError);
  });

  it("a user id with a lone surrogate is INVALID_DATA, as a payload with one is", async () => {
    const store = mapStore();
    expect(await rejection(store.listByUser?.("a\uD800") as Promise<unknown>)).toMatchObject({
      code: ErrorCode.INVALID_DATA,
    });
    const bad = { ...record(), payload: "nul\u0000" };
    expect(await rejection(store.set(KEY, bad, { ifVersion: 0 }))).toMatchObject({
      code: ErrorCode.INVALID_DATA,
    });
    expect(await store.get(KEY)).toBeNull();
  });

  it("a payload is storable exactly when it has no NUL and no lone surrogate (property, A29)", () => {
    // The reference: every UTF-16 unit, a surrogate only as half of a pair.
    const storable = (text: string): boolean => {
      for (let i = 0; i < text.length; i++) {
        const unit = text.charCodeAt(i);
        if (unit === 0) return false;
        if (unit >= 0xd800 && unit <= 0xdbff) {
          const next = text.charCodeAt(i + 1);
          if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
          i++;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) return false;
      }
      return true;
    };
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.oneof(
            fc.constantFrom("\0", "\uD800", "\uDFFF", "a"),
            fc.integer({ min: 0, max: 0x10ffff }).map((point) => String.fromCodePoint(point)),
            fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
          ),
        }),
        (text) => {
          expect(isStorableText(text)).toBe(storable(text));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it("isStoreKey() answers as the pattern does, whatever keys it remembered before", () => {
    // Keys core derives and keys that passed are remembered, so the next check
    // is an equality test: no near miss of a remembered key may pass with it.
    const pattern = /^[0-9a-f]{64}$/;
    const nearMiss = (key: string, at: number, unit: string): string =>
      key.slice(0, at) + unit + key.slice(at + 1);
    fc.assert(
      fc.property(
        fc.string(),
        fc.nat({ max: 63 }),
        fc.constantFrom("A", "F", "g", "-", "\0", "é", "\uD800"),
        fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 63, maxLength: 65 }),
        (id, at, unit, hex) => {
          const derived = storeKeyOf(id);
          expect(isStoreKey(derived)).toBe(true);
          const miss = nearMiss(derived, at, unit);
          expect(isStoreKey(miss)).toBe(false);
          expect(isStoreKey(derived.toUpperCase())).toBe(/^[0-9]*$/.test(derived));
          expect(isStoreKey(`${derived} `)).toBe(false);
          expect(isStoreKey(hex)).toBe(pattern.test(hex));
          // Asked again: a key that passed is now answered from the remembered ones.
          expect(isStoreKey(hex)).toBe(pattern.test(hex));
        },
      ),
      { numRuns: 5_000 },
    );
    expect(isStoreKey("0".repeat(64))).toBe(true);
    expect(isStoreKey(undefined)).toBe(false);
    expect(isStoreKey("")).toBe(false);
  });

  it("rename() onto a live key is a TypeError and changes nothing", async () => {
    const store = mapStore();
    await store.set(KEY, record(), { ifVersion: 0 });
    await store.set(OTHER, record(), { ifVersion: 0 });
    const error = await rejection(store.rename?.(KEY, OTHER, record(2)) as Promise<boolean>);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe("map: rename(): a live record already holds the new key");
    expect((await store.get(OTHER))?.version).toBe(1);
    expect(await store.get(KEY)).not.toBeNull();
  });

  it("every call after close() rejects with STORE_UNAVAILABLE; close() again resolves", async () => {
    let closed = 0;
    const store = defineStore({
      name: "closing",
      operationTimeoutMs: false,
      backend: {
        ...backendAnswering(() => Promise.reject(new Error("unreachable"))),
        async close() {
          closed++;
        },
      },
    });
    await store.close?.();
    await store.close?.();
    expect(closed).toBe(1);
    for (const call of [() => store.get(KEY), () => store.destroy(KEY)]) {
      expect(await rejection(call())).toMatchObject({ code: ErrorCode.STORE_UNAVAILABLE });
    }
  });

  it("what the backend throws is classified, or STORE_ERROR with the message redacted", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const store = defineStore({
      name: "classified",
      operationTimeoutMs: false,
      backend: backendAnswering(() => Promise.reject(refused)),
      classify: (error, operation) =>
        (error as { code?: string }).code === "ECONNREFUSED"
          ? new SessionError(ErrorCode.STORE_UNAVAILABLE, "down", { operation })
          : undefined,
    });
    expect(await rejection(store.get(KEY))).toMatchObject({
      code: ErrorCode.STORE_UNAVAILABLE,
      operation: "get",
    });
    const leaky = defineStore({
      name: "leaky",
      operationTimeoutMs: false,
      backend: backendAnswering(() =>
        Promise.reject(new Error("auth failed for redis://user:hunter2@db:6379")),
      ),
    });
    const error = await rejection(leaky.destroy(KEY));
    expect(error).toMatchObject({
      code: ErrorCode.STORE_ERROR,
      store: "leaky",
      operation: "destroy",
    });
    expect((error as Error).message).not.toContain("hunter2");
  });

  it("a backend that throws synchronously still rejects", async () => {
    const store = defineStore({
      name: "sync",
      operationTimeoutMs: false,
      backend: {
        get: () => {
          throw new Error("sync");
        },
        set: () => Promise.resolve(true),
        destroy: () => Promise.resolve(),
      },
    });
    expect(await rejection(store.get(KEY))).toMatchObject({ code: ErrorCode.STORE_ERROR });
  });

  it("a backend may answer in the calling step: each call still answers with a promise", async () => {
    const records = new Map<string, ReturnType<typeof record>>();
    const store = defineStore({
      name: "at-once",
      operationTimeoutMs: false,
      backend: {
        get: (key) => records.get(key) ?? null,
        set: (key, value, ifVersion) => {
          if ((records.get(key)?.version ?? 0) !== ifVersion) return false;
          records.set(key, value);
          return true;
        },
        destroy: (key) => void records.delete(key),
        rename: (oldKey, newKey, value) => {
          if (!records.has(oldKey)) return "missing";
          if (records.has(newKey)) return "taken";
          records.delete(oldKey);
          records.set(newKey, value);
          return "moved";
        },
        count: () => records.size,
      },
    });
    const answer = store.set(KEY, record(), { ifVersion: 0 });
    expect(answer).toBeInstanceOf(Promise);
    let settled = false;
    void answer.then(() => {
      settled = true;
    });
    expect(settled).toBe(false); // never within the call, as with a promise from the backend
    expect(await answer).toBe(true);
    expect(await store.set(KEY, record(2), { ifVersion: 0 })).toBe(false);
    expect((await store.get(KEY))?.version).toBe(1);
    expect(await store.rename?.(KEY, OTHER, record(2))).toBe(true);
    expect(await store.rename?.(KEY, OTHER, record(3))).toBe(false);
    await store.set(KEY, record(), { ifVersion: 0 });
    const taken = await rejection(store.rename?.(KEY, OTHER, record(2)) as Promise<boolean>);
    expect(taken).toBeInstanceOf(TypeError);
    expect(await store.count?.()).toBe(2);
    await store.destroy(OTHER);
    expect(await store.get(OTHER)).toBeNull();
  });

  it("an answer given in the calling step is kept, however long the call blocked", async () => {
    // The call ended before any timer could run: its write happened, so
    // answering STORE_TIMEOUT would report a landed write as failed.
    const store = defineStore({
      name: "blocking",
      operationTimeoutMs: 5,
      backend: {
        get: () => null,
        set: () => {
          const until = performance.now() + 30;
          while (performance.now() < until) {
            // blocks the event loop, as a synchronous driver waiting on a lock does
          }
          return true;
        },
        destroy: () => undefined,
      },
    });
    expect(await store.set(KEY, record(), { ifVersion: 0 })).toBe(true);
  });

  it("a backend argument error passes through as a TypeError", async () => {
    const store = defineStore({
      name: "cursor",
      operationTimeoutMs: false,
      backend: {
        ...backendAnswering(() => Promise.reject(new Error("unused"))),
        keys: () => Promise.reject(storeArgumentError("cursor", "keys(): unknown cursor")),
      },
    });
    const error = await rejection(store.keys?.({ cursor: "zz" }) as Promise<unknown>);
    expect(error).toBeInstanceOf(TypeError);
    expect(isSessionError(error)).toBe(false);
  });

  it("a call that never settles rejects with STORE_TIMEOUT after operationTimeoutMs", async () => {
    const store = defineStore({
      name: "hung",
      operationTimeoutMs: 50,
      backend: backendAnswering(() => new Promise<never>(() => {})),
    });
    const started = performance.now();
    expect(await rejection(store.get(KEY))).toMatchObject({
      code: ErrorCode.STORE_TIMEOUT,
      operation: "get",
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it("gcIntervalMs runs the backend's gc on a timer and reports failures to onError, never overlapping", async () => {
    const seen: { error: SessionError; context: StoreErrorContext }[] = [];
    let passes = 0;
    let running = 0;
    let overlapped = false;
    const store = defineStore({
      name: "pruned",
      operationTimeoutMs: false,
      gcIntervalMs: 10,
      onError: (error, context) => seen.push({ error, context }),
      backend: {
        ...backendAnswering(() => Promise.reject(new Error("unused"))),
        async gc() {
          passes++;
          running++;
          if (running > 1) overlapped = true;
          await new Promise((resolve) => setTimeout(resolve, 25));
          running--;
          if (passes === 2) throw new Error("prune failed");
          return 0;
        },
      },
    });
    await expect.poll(() => passes, { timeout: 5_000 }).toBeGreaterThan(2);
    await store.close?.();
    const after = passes;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(passes).toBe(after);
    expect(overlapped).toBe(false);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.context).toEqual({ operation: "gc" });
    expect(seen[0]?.error.code).toBe(ErrorCode.STORE_ERROR);
  });

  it("gc() hands the backend a budget: more() turns false after half of operationTimeoutMs", async () => {
    const seen: boolean[] = [];
    const store = defineStore({
      name: "budget",
      operationTimeoutMs: 100,
      backend: {
        ...backendAnswering(() => Promise.reject(new Error("unused"))),
        async gc(more) {
          seen.push(more());
          await new Promise((resolve) => setTimeout(resolve, 70));
          seen.push(more());
          return 0;
        },
      },
    });
    expect(await store.gc?.()).toBe(0);
    expect(seen).toEqual([true, false]);
  });

  it("gc()'s more() turns false once the store starts closing", async () => {
    let more: (() => boolean) | undefined;
    const store = defineStore({
      name: "closing-gc",
      operationTimeoutMs: false,
      backend: {
        ...backendAnswering(() => Promise.reject(new Error("unused"))),
        async gc(budget) {
          more = budget;
          return 0;
        },
      },
    });
    await store.gc?.();
    expect(more?.()).toBe(true);
    await store.close?.();
    expect(more?.()).toBe(false);
  });

  it("a malformed definition is INVALID_CONFIG", () => {
    const backend = backendAnswering(() => Promise.reject(new Error("unused")));
    for (const definition of [
      { name: "Bad Name", backend, operationTimeoutMs: false as const },
      { name: "ok", backend: { get: backend.get } as never, operationTimeoutMs: false as const },
      { name: "ok", backend, operationTimeoutMs: 0 },
      {
        name: "ok",
        backend: { ...backend, gc: async () => 0 },
        operationTimeoutMs: false as const,
        gcIntervalMs: -1,
      },
    ]) {
      expect(() => defineStore(definition)).toThrow(
        expect.objectContaining({ code: ErrorCode.INVALID_CONFIG }),
      );
    }
  });
});

describe("the store option vocabulary", () => {
  it("resolveStoreOptions() fills defaults and refuses malformed values with INVALID_CONFIG", () => {
    const resolved = resolveStoreOptions("x", undefined, { operationTimeoutMs: 2_000 });
    expect(resolved.operationTimeoutMs).toBe(2_000);
    expect(resolved.now).toBe(Date.now);
    for (const options of [
      { operationTimeoutMs: 0 },
      { operationTimeoutMs: 1.5 },
      { onError: "log" },
      { now: 5 },
    ]) {
      expect(() =>
        resolveStoreOptions("x", options as never, { operationTimeoutMs: 2_000 }),
      ).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_CONFIG, store: "x" }));
    }
    expect(() => resolveStoreOptions("x", "redis://" as never, { operationTimeoutMs: 1 })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_CONFIG }),
    );
  });

  it("gcIntervalMs and migrate take exactly their documented values", () => {
    expect(gcIntervalOption("x", undefined, 60_000)).toBe(60_000);
    expect(gcIntervalOption("x", false, 60_000)).toBe(false);
    expect(() => gcIntervalOption("x", 0, 60_000)).toThrow(/gcIntervalMs/);
    expect(migrateOption("x", undefined)).toBe("auto");
    expect(migrateOption("x", "verify")).toBe("verify");
    expect(() => migrateOption("x", true)).toThrow(/"auto", "verify" or "off"/);
  });

  it("readUrlParameters() reads known parameters and refuses unknown, repeated or malformed ones", () => {
    const known = {
      table: "string",
      gcIntervalMs: "duration",
      wal: "boolean",
      size: "integer",
    } as const;
    expect(
      readUrlParameters("x", "sqlite:./a.db?table=s&gcIntervalMs=false&wal=true&size=3", known),
    ).toEqual({ table: "s", gcIntervalMs: false, wal: true, size: 3 });
    expect(readUrlParameters("x", "memory:", known)).toEqual({});
    for (const url of [
      "x:?tabel=s",
      "x:?table=a&table=b",
      "x:?size=-1",
      "x:?size=1e3",
      "x:?wal=yes",
      "x:?gcIntervalMs=soon",
    ]) {
      expect(() => readUrlParameters("x", url, known)).toThrow(
        expect.objectContaining({ code: ErrorCode.INVALID_CONFIG }),
      );
    }
    const error = (() => {
      try {
        readUrlParameters("x", "redis://:hunter2@h/?password=hunter2", {});
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    expect(error?.message).toMatch(/unknown URL parameter "password" \(this store takes none\)/);
    expect(error?.message).not.toContain("hunter2");
  });
});

describe("the README's store", () => {
  it("creates, compare-and-sets and destroys through defineStore", async () => {
    const { store } = await import("./readme-map-store.js");
    const first = record();
    expect(await store.set(KEY, first, { ifVersion: 0 })).toBe(true);
    expect(await store.set(KEY, record(2), { ifVersion: 0 })).toBe(false);
    expect(await store.set(KEY, record(2), { ifVersion: 1 })).toBe(true);
    expect((await store.get(KEY))?.version).toBe(2);
    await store.destroy(KEY);
    expect(await store.get(KEY)).toBeNull();
    expect(store.capabilities.touch).toBe(false);
    expect(await rejection(store.get("not a key"))).toBeInstanceOf(TypeError);
  });
});
