import { randomBytes } from "node:crypto";
import type { KeyPage, SessionRecord } from "@sessionkit/core/store";
import { describe, it } from "vitest";
import {
  called,
  expect,
  expectRecord,
  expectSessionError,
  expectTypeError,
  requireCapability,
  useStore,
} from "../harness.js";
import type { ConformanceGroup } from "../options.js";
import { randomKey } from "../records.js";

/** Values that are not store keys (64 lowercase hex characters). */
const MALFORMED_KEYS: readonly unknown[] = [
  "",
  "not-a-key",
  "../../etc/passwd",
  "A".repeat(64),
  "a".repeat(63),
  "a".repeat(65),
  "g".repeat(64),
  ` ${"a".repeat(63)}`,
  42,
  null,
  undefined,
];

/** `ifVersion` values no call accepts. */
const BAD_VERSIONS: readonly unknown[] = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "1"];

/** Strings with a NUL character or a lone surrogate, which no store keeps exactly. */
const UNSTORABLE = ["nul \u0000 inside", "lone \uD800 high", "lone \uDC00 low"];

const show = (value: unknown): string =>
  typeof value === "string"
    ? JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)
    : String(value);

/**
 * The `arguments` group: one answer per malformed call, for every store. A
 * malformed argument rejects with a `TypeError`; a user id or payload no store
 * can keep exactly (a NUL or a lone surrogate) rejects with `INVALID_DATA`;
 * both as a rejected promise, never a synchronous throw, and nothing changes.
 * A store built with `defineStore()` from `@sessionkit/core/store` passes it as
 * is: core checks the arguments before the backend is called.
 *
 * @example
 * ```ts
 * argumentsGroup({ createStore: () => createMyStore() });
 * ```
 */
export const argumentsGroup: ConformanceGroup = (options) => {
  describe("arguments", () => {
    const { store, record, now } = useStore(options);
    const lone = ["a\uD800", "\uDC00b", "a\u0000b"];

    it('listByUser("") and destroyByUser("") reject with a TypeError', async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      await expectTypeError('listByUser("")', () => store().listByUser?.(""));
      await expectTypeError('destroyByUser("")', () => store().destroyByUser?.(""));
    });

    it("listByUser(userId) and destroyByUser(userId) reject a non-string or over-512-character user id with a TypeError", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      for (const userId of [42, null, "x".repeat(513)]) {
        await expectTypeError(`listByUser(${show(userId)})`, () =>
          store().listByUser?.(userId as string),
        );
        await expectTypeError(`destroyByUser(${show(userId)})`, () =>
          store().destroyByUser?.(userId as string),
        );
      }
    });

    it("listByUser(userId) with a lone surrogate or NUL rejects with INVALID_DATA (A27)", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      for (const userId of lone) {
        await expectSessionError(
          `listByUser(${show(userId)})`,
          () => store().listByUser?.(userId),
          "INVALID_DATA",
        );
      }
    });

    it("destroyByUser(userId) with a lone surrogate or NUL rejects with INVALID_DATA (A27)", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      for (const userId of lone) {
        await expectSessionError(
          `destroyByUser(${show(userId)})`,
          () => store().destroyByUser?.(userId),
          "INVALID_DATA",
        );
      }
    });

    it("destroyByUser(userId, { exceptKey }) rejects a malformed exceptKey with a TypeError and destroys nothing", async (ctx) => {
      requireCapability(ctx, store(), "userIndex");
      const userId = `user-${randomBytes(6).toString("hex")}`;
      const key = randomKey();
      await store().set(key, record({ userId }), { ifVersion: 0 });
      for (const exceptKey of ["not-a-key", 42]) {
        await expectTypeError(`destroyByUser(userId, { exceptKey: ${show(exceptKey)} })`, () =>
          store().destroyByUser?.(userId, { exceptKey: exceptKey as string }),
        );
      }
      expect(await store().get(key)).not.toBeNull();
    });

    it("get(key) rejects a malformed key with a TypeError", async () => {
      for (const key of MALFORMED_KEYS) {
        await expectTypeError(`get(${show(key)})`, () => store().get(key as string));
      }
    });

    it("set(key, record) rejects a malformed key with a TypeError", async () => {
      for (const key of MALFORMED_KEYS) {
        await expectTypeError(`set(${show(key)}, record)`, () =>
          store().set(key as string, record(), { ifVersion: 0 }),
        );
      }
    });

    it("destroy(key) rejects a malformed key with a TypeError", async () => {
      for (const key of MALFORMED_KEYS) {
        await expectTypeError(`destroy(${show(key)})`, () => store().destroy(key as string));
      }
    });

    it("touch(key, expiresAt) rejects a malformed key with a TypeError", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      for (const key of MALFORMED_KEYS) {
        await expectTypeError(`touch(${show(key)}, expiresAt)`, () =>
          store().touch?.(key as string, now() + 60_000),
        );
      }
    });

    it("rename(old, new, record) rejects a malformed old or new key with a TypeError and changes nothing", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const key = randomKey();
      const created = record();
      await store().set(key, created, { ifVersion: 0 });
      for (const bad of MALFORMED_KEYS) {
        await expectTypeError(`rename(${show(bad)}, new, record)`, () =>
          store().rename?.(bad as string, randomKey(), created),
        );
        await expectTypeError(`rename(old, ${show(bad)}, record)`, () =>
          store().rename?.(key, bad as string, created),
        );
      }
      expectRecord(await store().get(key), created);
    });

    it("set(key, record, options) rejects an ifVersion of -1, 1.5, NaN, Infinity or a string, or no ifVersion, with a TypeError and stores nothing", async () => {
      const key = randomKey();
      for (const ifVersion of BAD_VERSIONS) {
        await expectTypeError(`set(key, record, { ifVersion: ${show(ifVersion)} })`, () =>
          store().set(key, record(), { ifVersion: ifVersion as number }),
        );
      }
      await expectTypeError("set(key, record) without options", () =>
        (store().set as (key: string, record: SessionRecord) => Promise<boolean>)(key, record()),
      );
      await expectTypeError("set(key, record, {})", () => store().set(key, record(), {} as never));
      expect(await store().get(key)).toBeNull();
    });

    it("set(key, record) rejects a malformed record with a TypeError and stores nothing", async () => {
      const key = randomKey();
      const valid = record();
      const malformed: Record<string, unknown> = {
        "no record": null,
        "a number payload": { ...valid, payload: 42 },
        "a NaN expiresAt": { ...valid, expiresAt: Number.NaN },
        "a fractional expiresAt": { ...valid, expiresAt: valid.expiresAt + 0.5 },
        "no createdAt": { ...valid, createdAt: undefined },
        "version 0": { ...valid, version: 0 },
        "a fractional version": { ...valid, version: 1.5 },
        "an empty userId": { ...valid, userId: "" },
        "a 513-character userId": { ...valid, userId: "x".repeat(513) },
        "a number userId": { ...valid, userId: 42 },
      };
      for (const [what, bad] of Object.entries(malformed)) {
        await expectTypeError(`set(key, record with ${what})`, () =>
          store().set(key, bad as SessionRecord, { ifVersion: 0 }),
        );
      }
      expect(await store().get(key)).toBeNull();
    });

    it("set(key, record) with a NUL or lone surrogate in payload or userId rejects with INVALID_DATA and stores nothing (A27)", async () => {
      const key = randomKey();
      for (const bad of UNSTORABLE) {
        await expectSessionError(
          `set(newKey, record with payload ${show(bad)})`,
          () => store().set(key, record({ payload: bad }), { ifVersion: 0 }),
          "INVALID_DATA",
        );
        await expectSessionError(
          `set(newKey, record with userId ${show(bad)})`,
          () => store().set(key, record({ userId: bad }), { ifVersion: 0 }),
          "INVALID_DATA",
        );
      }
      expect(await store().get(key)).toBeNull();
    });

    it("set(key, record, { ifVersion: n }) with a NUL or lone surrogate rejects with INVALID_DATA and keeps the prior record (A27)", async () => {
      const key = randomKey();
      const created = record();
      await store().set(key, created, { ifVersion: 0 });
      for (const bad of UNSTORABLE) {
        await expectSessionError(
          `set(key, record with payload ${show(bad)}, { ifVersion: 1 })`,
          () => store().set(key, { ...created, payload: bad, version: 2 }, { ifVersion: 1 }),
          "INVALID_DATA",
        );
        await expectSessionError(
          `set(key, record with userId ${show(bad)}, { ifVersion: 1 })`,
          () => store().set(key, { ...created, userId: bad, version: 2 }, { ifVersion: 1 }),
          "INVALID_DATA",
        );
      }
      expectRecord(await store().get(key), created);
    });

    it("touch(key, expiresAt) rejects NaN, 1.5, Infinity or a string with a TypeError and changes nothing", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      const created = record();
      await store().set(key, created, { ifVersion: 0 });
      for (const expiresAt of [Number.NaN, 1.5, Number.POSITIVE_INFINITY, "9999999999999"]) {
        await expectTypeError(`touch(key, ${show(expiresAt)})`, () =>
          store().touch?.(key, expiresAt as number),
        );
      }
      expectRecord(await store().get(key), created);
    });

    it("touch(key, expiresAt, { ifVersion }) rejects an ifVersion of 0, -1, 1.5 or NaN with a TypeError and changes nothing", async (ctx) => {
      requireCapability(ctx, store(), "touch");
      const key = randomKey();
      const created = record();
      await store().set(key, created, { ifVersion: 0 });
      for (const ifVersion of [0, -1, 1.5, Number.NaN]) {
        await expectTypeError(`touch(key, expiresAt, { ifVersion: ${show(ifVersion)} })`, () =>
          store().touch?.(key, created.expiresAt + 10_000, { ifVersion }),
        );
      }
      expectRecord(await store().get(key), created);
    });

    it("rename(key, key, record) rejects with a TypeError and changes nothing", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const key = randomKey();
      const created = record();
      await store().set(key, created, { ifVersion: 0 });
      await expectTypeError("rename(key, key, record)", () =>
        store().rename?.(key, key, { ...created, version: 2 }),
      );
      expectRecord(await store().get(key), created);
    });

    it("rename(old, new, record, { ifVersion }) rejects an ifVersion of 0 or 1.5 with a TypeError and changes nothing", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const oldKey = randomKey();
      const newKey = randomKey();
      const created = record();
      await store().set(oldKey, created, { ifVersion: 0 });
      for (const ifVersion of [0, 1.5]) {
        await expectTypeError(`rename(old, new, record, { ifVersion: ${ifVersion} })`, () =>
          store().rename?.(oldKey, newKey, created, { ifVersion }),
        );
      }
      expectRecord(await store().get(oldKey), created);
      expect(await store().get(newKey)).toBeNull();
    });

    it("rename(old, new) rejects with a TypeError and changes nothing when new holds a live record", async (ctx) => {
      requireCapability(ctx, store(), "rename");
      const oldKey = randomKey();
      const newKey = randomKey();
      const moving = record({ payload: '"moving"' });
      const occupant = record({ payload: '"occupant"' });
      await store().set(oldKey, moving, { ifVersion: 0 });
      await store().set(newKey, occupant, { ifVersion: 0 });
      await expectTypeError("rename(old, new) onto a live record", () =>
        store().rename?.(oldKey, newKey, moving),
      );
      expectRecord(await store().get(oldKey), moving);
      expectRecord(await store().get(newKey), occupant);
    });

    it("keys({ limit }) rejects 0, 1001, 1.5, -1 and NaN with a TypeError", async (ctx) => {
      requireCapability(ctx, store(), "keys");
      for (const limit of [0, 1001, 1.5, -1, Number.NaN]) {
        await expectTypeError(`keys({ limit: ${limit} })`, () => store().keys?.({ limit }));
      }
    });

    it("keys({ cursor }) rejects a cursor that is not a string with a TypeError", async (ctx) => {
      requireCapability(ctx, store(), "keys");
      for (const cursor of [123, {}, ""]) {
        await expectTypeError(`keys({ cursor: ${show(cursor)} })`, () =>
          store().keys?.({ cursor: cursor as string }),
        );
      }
    });

    it("keys({ cursor }) rejects a cursor the store never issued with a TypeError", async (ctx) => {
      requireCapability(ctx, store(), "keys");
      await expectTypeError('keys({ cursor: "not a cursor!" })', () =>
        store().keys?.({ cursor: "not a cursor!" }),
      );
    });

    it("keys({ limit: 1000 }) and keys() are accepted", async (ctx) => {
      requireCapability(ctx, store(), "keys");
      const key = randomKey();
      await store().set(key, record(), { ifVersion: 0 });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: KeyPage = await called("keys({ cursor, limit: 1000 })", () =>
          store().keys?.({ cursor, limit: 1000 }),
        );
        seen.push(...page.keys);
        cursor = page.cursor;
        pages++;
        expect(pages, "keys() must end: the listing never completed").toBeLessThan(1_000);
      } while (cursor !== null);
      expect([...new Set(seen)]).toEqual([key]);
      const first = await called("keys()", () => store().keys?.());
      expect(Array.isArray(first.keys)).toBe(true);
    });
  });
};
