import { randomBytes } from "node:crypto";
import { getPostgresUrl, makeRecord, randomKey } from "@sessionkit/conformance";
import type { SessionRecord } from "@sessionkit/core";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresStore, type PostgresStore } from "../src/index.js";
import { GC_LOCK_CLASS } from "../src/schema.js";
import { createTestStore, destroyTestStore, openAdminPool, tableOf } from "./helpers.js";

// Checklist A32: bounded, SKIP LOCKED prune batches that never stall live traffic.

let admin: pg.Pool;
beforeAll(async () => {
  admin = await openAdminPool();
});
afterAll(async () => {
  await admin.end();
});

/** Inserts `count` already-expired rows in one statement. */
async function insertExpired(store: PostgresStore, count: number): Promise<void> {
  const expiredAt = Date.now() - 60_000;
  await admin.query(
    `INSERT INTO ${tableOf(store)} (key, payload, expires_at, created_at, version, user_id)
     SELECT encode(sha256(($1::text || i)::bytea), 'hex'), '{"old":true}', $2::bigint, $2::bigint - 1000, 1, 'user-' || (i % 100)
     FROM generate_series(1, $3::int) AS i`,
    [randomBytes(8).toString("hex"), expiredAt, count],
  );
}

async function rawCount(store: PostgresStore): Promise<number> {
  const result = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${tableOf(store)}`);
  return Number(result.rows[0]?.n);
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

describe("gc()", () => {
  it("gc() removes 100,000 expired rows while live reads and writes keep working (A32)", async (ctx) => {
    const store = await createTestStore(admin);
    try {
      await insertExpired(store, 100_000);
      const live = Array.from({ length: 200 }, (_, i) => ({
        key: randomKey(),
        record: makeRecord({ payload: `{"n":${i}}`, userId: `live-${i % 7}` }),
      }));
      for (const { key, record } of live) await store.set(key, record, { ifVersion: 0 });

      let gcDone = false;
      const latencies: number[] = [];
      let wrongReads = 0;
      let writes = 0;
      const reader = async (): Promise<void> => {
        for (let i = 0; !gcDone; i++) {
          const entry = live[(i * 31 + latencies.length) % live.length] as (typeof live)[number];
          const started = performance.now();
          const loaded = await store.get(entry.key);
          latencies.push(performance.now() - started);
          if (loaded?.payload !== entry.record.payload) wrongReads++;
        }
      };
      // Writers touch and create live sessions throughout the prune.
      const writer = async (): Promise<void> => {
        while (!gcDone) {
          const entry = live[writes % live.length] as (typeof live)[number];
          expect(await store.touch(entry.key, entry.record.expiresAt + 1_000)).toBe(true);
          expect(await store.set(randomKey(), makeRecord(), { ifVersion: 0 })).toBe(true);
          writes++;
        }
      };
      const gcStarted = performance.now();
      const pruning = store.gc().finally(() => {
        gcDone = true;
      });
      const [removed] = await Promise.all([
        pruning,
        ...Array.from({ length: 6 }, reader),
        writer(),
      ]);
      const gcMs = performance.now() - gcStarted;

      expect(removed).toBe(100_000);
      expect(wrongReads).toBe(0);
      expect(latencies.length).toBeGreaterThan(0);
      expect(await rawCount(store)).toBe(200 + writes);
      const sorted = [...latencies].sort((a, b) => a - b);
      const summary =
        `gc removed ${removed} rows in ${gcMs.toFixed(0)} ms; ${latencies.length} live gets during gc: ` +
        `p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, ` +
        `max ${(sorted[sorted.length - 1] ?? 0).toFixed(2)} ms; ${writes} touch+create pairs`;
      console.warn(summary);
      ctx.annotate(summary);
    } finally {
      await destroyTestStore(admin, store);
    }
  }, 120_000);

  it("gc() resolves to 0 at once while another instance holds the prune lock, and prunes after (A32)", async () => {
    const store = await createTestStore(admin);
    const holder = await admin.connect();
    try {
      await insertExpired(store, 50);
      await holder.query("SELECT pg_advisory_lock($1, hashtext($2))", [
        GC_LOCK_CLASS,
        `${store.schema}.${store.table}`,
      ]);
      expect(await store.gc()).toBe(0);
      expect(await rawCount(store)).toBe(50);
      await holder.query("SELECT pg_advisory_unlock($1, hashtext($2))", [
        GC_LOCK_CLASS,
        `${store.schema}.${store.table}`,
      ]);
      expect(await store.gc()).toBe(50);
      expect(await rawCount(store)).toBe(0);
    } finally {
      // Destroyed, not pooled: a failed test may leave its transaction open.
      holder.release(true);
      await destroyTestStore(admin, store);
    }
  });

  it("gc() skips rows another transaction holds locked instead of waiting (A32)", async () => {
    const store = await createTestStore(admin);
    const holder = await admin.connect();
    try {
      const key = randomKey();
      const record: SessionRecord = makeRecord({}, 60_000);
      await store.set(key, record, { ifVersion: 0 });
      await admin.query(`UPDATE ${tableOf(store)} SET expires_at = $2 WHERE key = $1`, [
        key,
        Date.now() - 1_000,
      ]);
      await insertExpired(store, 10);
      await holder.query("BEGIN");
      await holder.query(`SELECT 1 FROM ${tableOf(store)} WHERE key = $1 FOR UPDATE`, [key]);
      expect(await store.gc()).toBe(10);
      await holder.query("ROLLBACK");
      expect(await store.gc()).toBe(1);
    } finally {
      // Destroyed, not pooled: a failed test may leave its transaction open.
      holder.release(true);
      await destroyTestStore(admin, store);
    }
  });

  it("the background timer (gcIntervalMs) prunes expired rows on its own", async () => {
    const seed = await createTestStore(admin);
    const store = createPostgresStore({
      connectionString: await getPostgresUrl(),
      schema: seed.schema,
      gcIntervalMs: 50,
    });
    try {
      await insertExpired(seed, 20);
      await expect.poll(() => rawCount(seed), { timeout: 5_000 }).toBe(0);
    } finally {
      await store.close();
      await destroyTestStore(admin, seed);
    }
  });
});
