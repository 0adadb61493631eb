import type { SessionRecord } from "@sessionkit/core/store";
import { describe, it } from "vitest";
import { expect, expectRecord, requireHook, useStore } from "../harness.js";
import type { ConformanceGroup } from "../options.js";
import { randomKey } from "../records.js";

/** The `basic` group: get, set (create and compare-and-set) and destroy. */
export const basicGroup: ConformanceGroup = (options) => {
  describe("basic", () => {
    const { store, record } = useStore(options);

    it("get(key) returns null for an unknown key", async () => {
      expect(await store().get(randomKey())).toBeNull();
    });

    it("set(key, record, { ifVersion: 0 }) creates a record that get(key) returns unchanged", async () => {
      const key = randomKey();
      const created = record();
      expect(await store().set(key, created, { ifVersion: 0 })).toBe(true);
      expectRecord(await store().get(key), created);
    });

    it("set(key, record) keeps userId, and its absence", async () => {
      const withUser = randomKey();
      const anonymous = randomKey();
      await store().set(withUser, record({ userId: "user-42" }), { ifVersion: 0 });
      await store().set(anonymous, record(), { ifVersion: 0 });
      expect((await store().get(withUser))?.userId).toBe("user-42");
      expect((await store().get(anonymous))?.userId).toBeUndefined();
    });

    it("set(key, record, { ifVersion: 0 }) returns false and changes nothing when the key exists", async () => {
      const key = randomKey();
      const first = record({ payload: '"first"' });
      await store().set(key, first, { ifVersion: 0 });
      expect(
        await store().set(key, record({ payload: '"second"' }), { ifVersion: 0 }),
        "set(key, record, { ifVersion: 0 }) must not overwrite a live record: it must return false",
      ).toBe(false);
      expectRecord(await store().get(key), first);
    });

    it("set(key, record, { ifVersion: n }) replaces the record at version n", async () => {
      const key = randomKey();
      const first = record();
      await store().set(key, first, { ifVersion: 0 });
      const second = { ...first, payload: '{"changed":true}', version: 2, userId: "u1" };
      expect(await store().set(key, second, { ifVersion: 1 })).toBe(true);
      expectRecord(await store().get(key), second);
    });

    it("set(key, record, { ifVersion: n }) returns false and changes nothing at another version", async () => {
      const key = randomKey();
      const first = record({ version: 3 });
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
        await store().set(key, record({ version: 2 }), { ifVersion: 1 }),
        "set(key, record, { ifVersion: n }) must not create a missing record",
      ).toBe(false);
      expect(await store().get(key)).toBeNull();
      const created = record();
      await store().set(key, created, { ifVersion: 0 });
      await store().destroy(key);
      expect(
        await store().set(key, { ...created, version: 2 }, { ifVersion: 1 }),
        "set(key, record, { ifVersion: n }) must not resurrect a destroyed record",
      ).toBe(false);
      expect(await store().get(key)).toBeNull();
    });

    it("destroy(key) removes the record", async () => {
      const key = randomKey();
      await store().set(key, record(), { ifVersion: 0 });
      await store().destroy(key);
      expect(await store().get(key)).toBeNull();
    });

    it("destroy(key) removes the record physically (inspect.exists)", async (ctx) => {
      const exists = requireHook(ctx, options.inspect, "exists");
      const key = randomKey();
      await store().set(key, record(), { ifVersion: 0 });
      expect(await exists(store(), key), "the record must be stored before the destroy").toBe(true);
      await store().destroy(key);
      expect(await exists(store(), key)).toBe(false);
    });

    it("destroy(key) of an unknown key resolves", async () => {
      await expect(store().destroy(randomKey())).resolves.toBeUndefined();
    });

    it("records under different keys are independent", async () => {
      const a = randomKey();
      const b = randomKey();
      const rb = record({ payload: '"b"' });
      await store().set(a, record({ payload: '"a"' }), { ifVersion: 0 });
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
        await store().set(key, record({ payload }), { ifVersion: 0 });
        expect((await store().get(key))?.payload).toBe(payload);
      }
    });

    it("user ids round-trip exactly, including hostile ones", async () => {
      for (const userId of ["__proto__", "constructor", "a:b{c}*?", "ユーザー", "x".repeat(512)]) {
        const key = randomKey();
        await store().set(key, record({ userId }), { ifVersion: 0 });
        expect((await store().get(key))?.userId).toBe(userId);
      }
    });

    it("returned records are copies: mutating one does not change the store", async () => {
      const key = randomKey();
      const created = record();
      await store().set(key, created, { ifVersion: 0 });
      const loaded = (await store().get(key)) as { -readonly [K in keyof SessionRecord]: unknown };
      loaded.payload = "mutated";
      loaded.version = 99;
      expectRecord(await store().get(key), created);
    });
  });
};
