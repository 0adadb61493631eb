import { makeRecord, randomKey } from "@sessionkit/conformance";
import { createSqliteStore } from "@sessionkit/store-sqlite";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { CounterGo, CounterMessage } from "./fixtures/counter-worker.js";
import type { LockMessage } from "./fixtures/lock-holder.js";
import type { ReservedLockMessage } from "./fixtures/reserved-lock-holder.js";
import {
  forkFixture,
  killIfRunning,
  removeDbFiles,
  tempDbPath,
  type Worker,
  withRawConnection,
} from "./helpers.js";

const started: Worker<unknown>[] = [];
const files: string[] = [];
afterEach(() => {
  for (const worker of started.splice(0)) killIfRunning(worker);
  for (const path of files.splice(0)) removeDbFiles(path);
});

function fixture<M>(name: string, args: readonly string[] = []): Worker<M> {
  const worker = forkFixture<M>(name, args);
  started.push(worker as Worker<unknown>);
  return worker;
}

function newPath(): string {
  const path = tempDbPath();
  files.push(path);
  return path;
}

describe("several processes on one file", () => {
  it("4 processes opening one new file at once and running compare-and-set increments lose no update (A23, A33)", async (ctx) => {
    const path = newPath();
    const workers = Array.from({ length: 4 }, () => fixture<CounterMessage>("counter-worker"));
    for (const worker of workers) expect(await worker.next()).toEqual({ type: "ready" });
    const keys = [randomKey(), randomKey(), randomKey()];
    const go: CounterGo = { path, keys, increments: 500 };
    for (const worker of workers) worker.send(go);
    for (const worker of workers) expect(await worker.next()).toEqual({ type: "opened" });
    for (const worker of workers) worker.send({ type: "start" });

    const reports = await Promise.all(workers.map((worker) => worker.next()));
    const totals = Object.fromEntries(keys.map((key) => [key, 0]));
    let conflicts = 0;
    for (const report of reports) {
      if (report.type !== "done") throw new Error(`worker failed: ${JSON.stringify(report)}`);
      for (const key of keys) totals[key] = (totals[key] ?? 0) + (report.acked[key] ?? 0);
      conflicts += report.conflicts;
    }
    expect(await Promise.all(workers.map((worker) => worker.exited))).toEqual([0, 0, 0, 0]);
    // Every acknowledged increment is in the file: the counters equal their sums.
    expect(Object.values(totals).reduce((a, b) => a + b, 0)).toBe(4 * 500);
    withRawConnection(path, (db) => {
      for (const key of keys) {
        const row = db
          .prepare('SELECT payload, version FROM "sessionkit_sessions" WHERE key = ?')
          .get(key) as { payload: string; version: number };
        expect(Number(row.payload)).toBe(totals[key]);
        expect(row.version).toBe((totals[key] ?? 0) + 1);
      }
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    });
    await ctx.annotate(`${conflicts} compare-and-set conflicts were retried by the workers`);
  }, 60_000);
});

describe("another process writing to a rollback-journal file", () => {
  // Switching to WAL upgrades the switch's own read lock to a write lock, a
  // step where SQLite returns SQLITE_BUSY at once instead of calling its busy
  // handler: two processes opening one new file together could fail so.
  it("createSqliteStore() waits up to operationTimeoutMs for its write lock to switch the file to WAL (A33)", async () => {
    const path = newPath();
    const app = new Database(path);
    app.exec("CREATE TABLE app_data (x INTEGER)");
    app.close();
    const holder = fixture<ReservedLockMessage>("reserved-lock-holder", [path, "300"]);
    expect(await holder.next()).toEqual({ type: "locked" });
    const startedAt = performance.now();
    // Synchronous: the event loop is blocked until the holder lets go by itself.
    const store = createSqliteStore({
      url: `sqlite:${path}`,
      operationTimeoutMs: 10_000,
      gcIntervalMs: false,
    });
    try {
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(100);
      expect(store.database.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(await holder.exited).toBe(0);
      expect(await store.set(randomKey(), makeRecord(), { ifVersion: 0 })).toBe(true);
    } finally {
      await store.close();
    }
  }, 30_000);
});

describe("another process holding the write lock", () => {
  it("writes reject with retryable STORE_BUSY within operationTimeoutMs + 1 s, reads go on, and writes succeed after release (A30, A33)", async (ctx) => {
    const path = newPath();
    const operationTimeoutMs = 500;
    const store = createSqliteStore({
      url: `sqlite:${path}`,
      operationTimeoutMs,
      gcIntervalMs: false,
    });
    try {
      const key = randomKey();
      const record = makeRecord();
      await store.set(key, record, { ifVersion: 0 });

      const holder = fixture<LockMessage>("lock-holder", [path]);
      expect(await holder.next()).toEqual({ type: "locked" });

      // WAL: a reader never waits for the writer.
      expect((await store.get(key))?.payload).toBe(record.payload);

      const attempts: [string, () => Promise<unknown>][] = [
        ["set", () => store.set(randomKey(), makeRecord(), { ifVersion: 0 })],
        ["touch", () => store.touch(key, Date.now() + 120_000)],
        ["destroy", () => store.destroy(key)],
      ];
      for (const [operation, attempt] of attempts) {
        const startedAt = performance.now();
        const error: unknown = await attempt().then(
          () => null,
          (e: unknown) => e,
        );
        const elapsedMs = performance.now() - startedAt;
        expect(error).toMatchObject({
          name: "SessionError",
          code: "STORE_BUSY",
          store: "sqlite",
          operation,
          retryable: true,
          httpStatus: 503,
        });
        expect((error as Error).cause).toMatchObject({
          code: expect.stringMatching(/^SQLITE_BUSY/),
        });
        // It waited for the lock (busy_timeout honoured) and gave up in time (never hangs).
        expect(elapsedMs).toBeGreaterThanOrEqual(operationTimeoutMs / 2);
        expect(elapsedMs).toBeLessThan(operationTimeoutMs + 1_000);
        await ctx.annotate(`${operation}: STORE_BUSY after ${Math.round(elapsedMs)} ms`);
      }

      holder.send({ type: "release" });
      expect(await holder.next()).toEqual({ type: "released" });
      expect(await holder.exited).toBe(0);

      const fresh = randomKey();
      expect(await store.set(fresh, makeRecord(), { ifVersion: 0 })).toBe(true);
      expect(await store.touch(key, record.expiresAt + 10_000)).toBe(true);
      expect((await store.get(key))?.expiresAt).toBe(record.expiresAt + 10_000);
    } finally {
      await store.close();
    }
  }, 30_000);
});

describe("gc timer", () => {
  it("sweeps expired rows in the background and never keeps the process alive (A33)", async () => {
    const path = newPath();
    const child = fixture<{ type: "swept"; remaining: number }>("gc-timer", [path]);
    expect(await child.next()).toEqual({ type: "swept", remaining: 0 });
    // The child never closes its store: exiting at all proves the timer is unref'd.
    expect(await child.exited).toBe(0);
  }, 30_000);
});
