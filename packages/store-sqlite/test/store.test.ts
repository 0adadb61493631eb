import { statSync, writeFileSync } from "node:fs";
import { makeRecord, randomKey } from "@sessionkit/conformance";
import type { SessionError } from "@sessionkit/core";
import { createSqliteStore, type SqliteStore } from "@sessionkit/store-sqlite";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { removeDbFiles, tempDbPath, withRawConnection } from "./helpers.js";

const stores: SqliteStore[] = [];
const files: string[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const store of stores.splice(0)) await store.close();
  for (const path of files.splice(0)) removeDbFiles(path);
});

function newPath(): string {
  const path = tempDbPath();
  files.push(path);
  return path;
}

function track(store: SqliteStore): SqliteStore {
  stores.push(store);
  return store;
}

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

const rowCount = (store: SqliteStore): number =>
  (store.database.prepare(`SELECT count(*) AS n FROM "${store.table}"`).get() as { n: number }).n;

describe("file permissions", () => {
  it("createSqliteStore({ url }) creates the file, -wal and -shm with mode 0600 (A33)", async () => {
    const path = newPath();
    const previous = process.umask(0);
    let store: SqliteStore;
    try {
      store = track(createSqliteStore({ url: `sqlite:${path}`, gcIntervalMs: false }));
    } finally {
      process.umask(previous);
    }
    await store.set(randomKey(), makeRecord(), { ifVersion: 0 });
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      expect((statSync(file).mode & 0o777).toString(8), file).toBe("600");
    }
  });

  it("createSqliteStore({ url }) leaves the mode of an existing file alone", () => {
    const path = newPath();
    writeFileSync(path, "", { mode: 0o640 });
    track(createSqliteStore({ url: `sqlite:${path}`, gcIntervalMs: false }));
    expect((statSync(path).mode & 0o777).toString(8)).toBe("640");
  });
});

describe("durability", () => {
  it("a session survives closing and reopening the file", async () => {
    const path = newPath();
    const key = randomKey();
    const record = makeRecord({ userId: "u1" });
    const first = createSqliteStore({ url: `sqlite:${path}`, gcIntervalMs: false });
    await first.set(key, record, { ifVersion: 0 });
    await first.close();
    expect(first.database.open).toBe(false);

    const second = track(createSqliteStore({ url: `sqlite:${path}`, gcIntervalMs: false }));
    expect(await second.get(key)).toEqual(record);
    expect(second.database.pragma("journal_mode", { simple: true })).toBe("wal");
  });
});

describe("writes of an already expired record (one conditional statement)", () => {
  it("set(key, expired, { ifVersion: n }) deletes the record only at version n", async () => {
    const store = track(createSqliteStore({ url: "sqlite::memory:", gcIntervalMs: false }));
    const key = randomKey();
    const record = makeRecord();
    await store.set(key, record, { ifVersion: 0 });
    const expired = { ...record, version: 3, expiresAt: Date.now() - 1 };
    expect(await store.set(key, expired, { ifVersion: 2 })).toBe(false);
    expect(await store.get(key)).toEqual(record);
    expect(await store.set(key, expired, { ifVersion: 1 })).toBe(true);
    expect(rowCount(store)).toBe(0);
  });

  it("set(key, expired, { ifVersion: 0 }) answers whether the key is free and writes nothing", async () => {
    const store = track(createSqliteStore({ url: "sqlite::memory:", gcIntervalMs: false }));
    const [taken, free] = [randomKey(), randomKey()];
    const record = makeRecord();
    await store.set(taken, record, { ifVersion: 0 });
    const expired = makeRecord({}, -1_000);
    expect(await store.set(taken, expired, { ifVersion: 0 })).toBe(false);
    expect(await store.get(taken)).toEqual(record);
    expect(await store.set(free, expired, { ifVersion: 0 })).toBe(true);
    expect(rowCount(store)).toBe(1);
  });
});

describe("rename()", () => {
  it("rename(old, new) rejects when new is taken by a live record, changing nothing", async () => {
    const store = track(createSqliteStore({ url: "sqlite::memory:", gcIntervalMs: false }));
    const [a, b] = [randomKey(), randomKey()];
    const ra = makeRecord({ payload: '"a"' });
    const rb = makeRecord({ payload: '"b"' });
    await store.set(a, ra, { ifVersion: 0 });
    await store.set(b, rb, { ifVersion: 0 });
    await expect(store.rename(a, b, ra)).rejects.toBeInstanceOf(TypeError);
    expect(await store.get(a)).toEqual(ra);
    expect(await store.get(b)).toEqual(rb);
  });

  it("rename(old, new) overwrites an expired leftover under the new key", async () => {
    let clock = 1_000_000;
    const store = track(
      createSqliteStore({ url: "sqlite::memory:", gcIntervalMs: false, now: () => clock }),
    );
    const [a, b] = [randomKey(), randomKey()];
    await store.set(b, makeRecord({ createdAt: clock, expiresAt: clock + 10 }), { ifVersion: 0 });
    const record = makeRecord({ createdAt: clock, expiresAt: clock + 60_000 });
    await store.set(a, record, { ifVersion: 0 });
    clock += 100;
    const moved = { ...record, version: 2 };
    expect(await store.rename(a, b, moved)).toBe(true);
    expect(await store.get(b)).toEqual(moved);
    expect(await store.get(a)).toBeNull();
    expect(rowCount(store)).toBe(1);
  });
});

describe("keys()", () => {
  it("keys({ cursor }) rejects a cursor keys() never returned with a TypeError", async () => {
    const store = track(createSqliteStore({ url: "sqlite::memory:", gcIntervalMs: false }));
    await expect(store.keys({ cursor: "x' OR 1=1 --" })).rejects.toBeInstanceOf(TypeError);
  });
});

describe("gc()", () => {
  it("gc() removes 5,000 expired rows in batches of 1,000 and keeps live ones", async () => {
    let clock = 1_700_000_000_000;
    const store = track(
      createSqliteStore({
        url: `sqlite:${newPath()}`,
        gcIntervalMs: false,
        gcBatchSize: 1_000,
        now: () => clock,
      }),
    );
    const base = { payload: "{}", createdAt: clock, version: 1 } as const;
    // Raw inserts in one transaction: 5,000 awaited sets would only slow the test down.
    const insert = store.database.prepare(
      `INSERT INTO "${store.table}" (key, payload, expires_at, created_at, version) VALUES (?, '{}', ?, ?, 1)`,
    );
    store.database.transaction(() => {
      for (let i = 0; i < 5_000; i++) insert.run(randomKey(), clock + 1_000, clock);
    })();
    const live = Array.from({ length: 10 }, randomKey);
    for (const key of live)
      await store.set(key, { ...base, expiresAt: clock + 100_000 }, { ifVersion: 0 });
    clock += 2_000;

    const sweeping = store.gc();
    // gc() ran one batch before yielding: the batch bound is real, not a single huge DELETE.
    expect(rowCount(store)).toBe(5_010 - 1_000);
    expect(await sweeping).toBe(5_000);
    expect(rowCount(store)).toBe(10);
    for (const key of live) expect(await store.get(key)).not.toBeNull();
    expect(await store.gc()).toBe(0);
  });

  it("gc() starts no batch once half of operationTimeoutMs is spent and resolves to what it removed; further calls carry on to 0", async () => {
    let clock = 1_700_000_000_000;
    const store = track(
      createSqliteStore({
        url: "sqlite::memory:",
        gcIntervalMs: false,
        gcBatchSize: 10,
        operationTimeoutMs: 1_000,
        now: () => clock,
      }),
    );
    const insert = store.database.prepare(
      `INSERT INTO "${store.table}" (key, payload, expires_at, created_at, version) VALUES (?, '{}', ?, ?, 1)`,
    );
    store.database.transaction(() => {
      for (let i = 0; i < 3_000; i++) insert.run(randomKey(), clock + 1_000, clock);
    })();
    clock += 2_000;
    const pass = store.gc();
    // The first batch ran; the pass now waits for the event loop, which this
    // test holds past half of operationTimeoutMs (and well before all of it).
    const until = performance.now() + 520;
    while (performance.now() < until) {
      // Busy: the event loop is held on purpose.
    }
    expect(await pass).toBe(10);
    expect(rowCount(store)).toBe(2_990);
    let drained = 0;
    for (let removed = await store.gc(); removed > 0; removed = await store.gc()) {
      drained += removed;
    }
    expect(drained).toBe(2_990);
    expect(rowCount(store)).toBe(0);
  });

  it("a failed scheduled gc pass goes to onError with its operation", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const database = new Database(":memory:");
    const reported: [SessionError, string][] = [];
    const store = track(
      createSqliteStore({
        database,
        gcIntervalMs: 1_000,
        onError: (error, { operation }) => reported.push([error, operation]),
      }),
    );
    database.exec(`DROP TABLE "${store.table}"`);
    // Jitter is ±10%: 1,100 ms is past the first pass.
    await vi.advanceTimersByTimeAsync(1_100);
    expect(reported).toHaveLength(1);
    expect(reported[0]?.[1]).toBe("gc");
    expect(reported[0]?.[0]).toMatchObject({ code: "STORE_ERROR", operation: "gc" });
    await store.close();
    database.close();
  });
});

describe("expiry and the app clock", () => {
  it("get(key) compares expiresAt with the now option at call time and deletes an expired row on read (A20)", async () => {
    let clock = 1_000_000;
    const store = track(
      createSqliteStore({ url: "sqlite::memory:", gcIntervalMs: false, now: () => clock }),
    );
    const key = randomKey();
    await store.set(
      key,
      { payload: "{}", createdAt: clock, expiresAt: clock + 500, version: 1 },
      { ifVersion: 0 },
    );
    clock += 499;
    expect(await store.get(key)).not.toBeNull();
    clock += 1;
    expect(await store.get(key)).toBeNull();
    // The clock going back revives nothing: the row is gone.
    clock -= 10_000;
    expect(await store.get(key)).toBeNull();
    expect(rowCount(store)).toBe(0);
  });
});

describe("errors", () => {
  it("close() closes a connection the store opened; then every call, migrate() too, rejects with STORE_UNAVAILABLE (A30)", async () => {
    const store = createSqliteStore({ url: "sqlite::memory:", gcIntervalMs: false });
    await store.close();
    expect(store.database.open).toBe(false);
    for (const [operation, call] of [
      ["get", store.get(randomKey())],
      ["migrate", store.migrate()],
    ] as const) {
      expect(await rejection(call)).toMatchObject({
        name: "SessionError",
        code: "STORE_UNAVAILABLE",
        store: "sqlite",
        operation,
      });
    }
    await expect(store.close()).resolves.toBeUndefined();
  });

  it("a database the user closed under the store gives STORE_UNAVAILABLE", async () => {
    const database = new Database(":memory:");
    const store = track(createSqliteStore({ database, gcIntervalMs: false }));
    database.close();
    for (const call of [store.get(randomKey()), store.migrate()]) {
      expect(await rejection(call)).toMatchObject({ code: "STORE_UNAVAILABLE", store: "sqlite" });
    }
  });

  it("a driver failure becomes STORE_ERROR with the driver error as cause, and a missing table says how to create it", async () => {
    const database = new Database(":memory:");
    const store = track(createSqliteStore({ database, gcIntervalMs: false }));
    database.exec(`DROP TABLE "${store.table}"`);
    const error = await rejection(store.get(randomKey()));
    expect(error).toMatchObject({ name: "SessionError", code: "STORE_ERROR", operation: "get" });
    expect((error as Error).message).toContain("store.migrate()");
    expect((error as Error).cause).toMatchObject({ code: "SQLITE_ERROR" });
    database.close();
  });

  it("a file that cannot be created fails with STORE_UNAVAILABLE and no path in the message", () => {
    let error: unknown;
    try {
      createSqliteStore({ url: "sqlite:/nonexistent-dir-sk/secret-name.db" });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      name: "SessionError",
      code: "STORE_UNAVAILABLE",
      operation: "open",
    });
    expect((error as Error).message).not.toContain("secret-name");
  });
});

describe("several tables", () => {
  it("two tables in one file are independent stores", async () => {
    const path = newPath();
    const url = `sqlite:${path}`;
    const a = track(createSqliteStore({ url, table: "sessions_a", gcIntervalMs: false }));
    const b = track(createSqliteStore({ url, table: "select", gcIntervalMs: false }));
    const key = randomKey();
    await a.set(key, makeRecord(), { ifVersion: 0 });
    expect(await b.get(key)).toBeNull();
    await b.clear();
    expect(await a.get(key)).not.toBeNull();
    withRawConnection(path, (db) => {
      const tables = db
        .prepare("SELECT table_name FROM sessionkit_schema_version ORDER BY table_name")
        .pluck()
        .all();
      expect(tables).toEqual(["select", "sessions_a"]);
    });
  });
});
