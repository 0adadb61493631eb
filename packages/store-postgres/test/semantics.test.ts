import { getPostgresUrl, makeRecord, randomKey } from "@sessionkit/conformance";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresStore, type PostgresStore } from "../src/index.js";
import { createTestStore, destroyTestStore, openAdminPool, tableOf } from "./helpers.js";

// Behaviour specific to this store beyond the shared suite.
let admin: pg.Pool;
let store: PostgresStore;
beforeAll(async () => {
  admin = await openAdminPool();
  store = await createTestStore(admin);
});
afterAll(async () => {
  await destroyTestStore(admin, store);
  await admin.end();
});

async function rowExists(key: string): Promise<boolean> {
  const result = await admin.query(`SELECT 1 FROM ${tableOf(store)} WHERE key = $1`, [key]);
  return result.rowCount === 1;
}

describe("postgres store semantics", () => {
  it("get(key) of an expired row deletes it, so a clock going back revives nothing (A20)", async () => {
    const key = randomKey();
    await store.set(key, makeRecord({}, 60_000), { ifVersion: 0 });
    await admin.query(`UPDATE ${tableOf(store)} SET expires_at = $2 WHERE key = $1`, [
      key,
      Date.now() - 1,
    ]);
    expect(await rowExists(key)).toBe(true);
    expect(await store.get(key)).toBeNull();
    expect(await rowExists(key)).toBe(false);
  });

  it("get(key) of an expired row deletes it whatever its other columns hold; a live one that cannot be read is an error", async () => {
    const key = randomKey();
    await store.set(key, makeRecord({}, 60_000), { ifVersion: 0 });
    // A version no JavaScript number holds exactly: the row cannot be handed out.
    await admin.query(`UPDATE ${tableOf(store)} SET version = $2 WHERE key = $1`, [
      key,
      "9007199254740993",
    ]);
    await expect(store.get(key)).rejects.toMatchObject({ code: "STORE_ERROR" });
    await admin.query(`UPDATE ${tableOf(store)} SET expires_at = $2 WHERE key = $1`, [
      key,
      Date.now() - 1,
    ]);
    expect(await store.get(key)).toBeNull();
    expect(await rowExists(key)).toBe(false);
  });

  it("expiry compares against the store's `now` option, not the database clock (A20)", async () => {
    let offsetMs = 0;
    const shifted = createPostgresStore({
      url: await getPostgresUrl(),
      schema: store.schema,
      gcIntervalMs: false,
      now: () => Date.now() + offsetMs,
    });
    try {
      const key = randomKey();
      await shifted.set(key, makeRecord({}, 60_000), { ifVersion: 0 });
      expect(await shifted.get(key)).not.toBeNull();
      offsetMs = 120_000;
      expect(await shifted.get(key)).toBeNull();
      expect(await shifted.touch(key, Date.now() + 600_000)).toBe(false);
    } finally {
      await shifted.close();
    }
  });

  it("rename(old, new) treats an expired row under new as absent", async () => {
    const oldKey = randomKey();
    const newKey = randomKey();
    const record = makeRecord({ payload: '"moved"' });
    await store.set(oldKey, record, { ifVersion: 0 });
    await store.set(newKey, makeRecord({ payload: '"stale"' }), { ifVersion: 0 });
    await admin.query(`UPDATE ${tableOf(store)} SET expires_at = $2 WHERE key = $1`, [
      newKey,
      Date.now() - 1,
    ]);
    expect(await store.rename(oldKey, newKey, record)).toBe(true);
    expect((await store.get(newKey))?.payload).toBe('"moved"');
    expect(await rowExists(oldKey)).toBe(false);
  });

  it("rename(old, new) rejects with a TypeError and changes nothing when new holds a live session", async () => {
    const oldKey = randomKey();
    const newKey = randomKey();
    const record = makeRecord({ payload: '"old"' });
    await store.set(oldKey, record, { ifVersion: 0 });
    await store.set(newKey, makeRecord({ payload: '"taken"' }), { ifVersion: 0 });
    await expect(store.rename(oldKey, newKey, record)).rejects.toBeInstanceOf(TypeError);
    expect((await store.get(oldKey))?.payload).toBe('"old"');
    expect((await store.get(newKey))?.payload).toBe('"taken"');
  });

  it("rename(old, new) with an already expired record deletes old, unless a live session holds new (then a TypeError, nothing changed)", async () => {
    const oldKey = randomKey();
    const newKey = randomKey();
    await store.set(oldKey, makeRecord({ payload: '"old"' }), { ifVersion: 0 });
    const expired = makeRecord({}, -1_000);
    await store.set(newKey, makeRecord({ payload: '"taken"' }), { ifVersion: 0 });
    await expect(store.rename(oldKey, newKey, expired)).rejects.toBeInstanceOf(TypeError);
    expect((await store.get(oldKey))?.payload).toBe('"old"');
    expect((await store.get(newKey))?.payload).toBe('"taken"');
    const freeKey = randomKey();
    expect(await store.rename(oldKey, freeKey, expired)).toBe(true);
    expect(await rowExists(oldKey)).toBe(false);
    expect(await rowExists(freeKey)).toBe(false);
    expect(await store.rename(oldKey, freeKey, expired)).toBe(false);
  });

  it("destroyByUser(userId) with a lone surrogate is INVALID_DATA and leaves the U+FFFD user's sessions alone (A27)", async () => {
    // The driver would send a lone surrogate as U+FFFD and match another user.
    const key = randomKey();
    await store.set(key, makeRecord({ userId: "\uFFFD" }), { ifVersion: 0 });
    await expect(store.destroyByUser("\uD800")).rejects.toMatchObject({ code: "INVALID_DATA" });
    await expect(store.listByUser("\uD800")).rejects.toMatchObject({ code: "INVALID_DATA" });
    expect((await store.listByUser("\uFFFD")).map((s) => s.key)).toEqual([key]);
  });

  it("every statement is parameterised: a hostile payload and user id are stored as data (A32)", async () => {
    const key = randomKey();
    const hostile = "x'); DROP TABLE sessionkit_sessions; --";
    await store.set(key, makeRecord({ payload: hostile, userId: hostile }), { ifVersion: 0 });
    const raw = await admin.query<{ payload: string; user_id: string }>(
      `SELECT payload, user_id FROM ${tableOf(store)} WHERE key = $1`,
      [key],
    );
    expect(raw.rows).toEqual([{ payload: hostile, user_id: hostile }]);
  });
});
