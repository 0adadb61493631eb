import { statSync, writeFileSync } from "node:fs";
import { makeRecord, randomKey } from "@sessionkit/conformance";
import { createStoreRegistry, type SessionRecord } from "@sessionkit/core";
import {
  createSqliteStore,
  migrateSqliteSchema,
  type SqliteStore,
  sqliteProvider,
} from "@sessionkit/store-sqlite";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { removeDbFiles, tempDbPath, withRawConnection } from "./helpers.js";

const stores: SqliteStore[] = [];
const files: string[] = [];
afterEach(async () => {
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

describe("file permissions", () => {
  it("createSqliteStore({ path }) creates the file, -wal and -shm with mode 0600 (A33)", async () => {
    const path = newPath();
    const previous = process.umask(0);
    let store: SqliteStore;
    try {
      store = track(createSqliteStore({ path, gcIntervalMs: false }));
    } finally {
      process.umask(previous);
    }
    await store.set(randomKey(), makeRecord(), { ifVersion: 0 });
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      expect((statSync(file).mode & 0o777).toString(8), file).toBe("600");
    }
  });

  it("createSqliteStore({ path }) leaves the mode of an existing file alone", () => {
    const path = newPath();
    writeFileSync(path, "", { mode: 0o640 });
    track(createSqliteStore({ path, gcIntervalMs: false }));
    expect((statSync(path).mode & 0o777).toString(8)).toBe("640");
  });
});

describe("durability", () => {
  it("a session survives closing and reopening the file", async () => {
    const path = newPath();
    const key = randomKey();
    const record = makeRecord({ userId: "u1" });
    const first = createSqliteStore({ path, gcIntervalMs: false });
    await first.set(key, record, { ifVersion: 0 });
    await first.close();
    expect(first.database.open).toBe(false);

    const second = track(createSqliteStore({ path, gcIntervalMs: false }));
    expect(await second.get(key)).toEqual(record);
    expect(second.database.pragma("journal_mode", { simple: true })).toBe("wal");
  });
});

describe("gc()", () => {
  it("gc() removes 5,000 expired rows in batches of 1,000 and keeps live ones", async () => {
    let clock = 1_700_000_000_000;
    const store = track(
      createSqliteStore({
        path: newPath(),
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

    const rows = () =>
      (store.database.prepare(`SELECT count(*) AS n FROM "${store.table}"`).get() as { n: number })
        .n;
    const sweeping = store.gc();
    // gc() ran one batch before yielding: the batch bound is real, not a single huge DELETE.
    expect(rows()).toBe(5_010 - 1_000);
    expect(await sweeping).toBe(5_000);
    expect(rows()).toBe(10);
    for (const key of live) expect(await store.get(key)).not.toBeNull();
    expect(await store.gc()).toBe(0);
  });
});

describe("expiry and the app clock", () => {
  it("get(key) compares expiresAt with the now option and deletes an expired row on read (A20)", async () => {
    let clock = 1_000_000;
    const store = track(
      createSqliteStore({ path: ":memory:", gcIntervalMs: false, now: () => clock }),
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
    expect(await store.count()).toBe(0);
  });
});

describe("errors", () => {
  it("methods never throw synchronously: bad arguments reject with TypeError", async () => {
    const store = track(createSqliteStore({ path: ":memory:", gcIntervalMs: false }));
    let pending: Promise<unknown> | undefined;
    expect(() => {
      pending = store.get("not a key");
    }).not.toThrow();
    await expect(pending).rejects.toBeInstanceOf(TypeError);
    await expect(store.set(randomKey(), makeRecord(), { ifVersion: -1 })).rejects.toBeInstanceOf(
      TypeError,
    );
    await expect(store.touch(randomKey(), Number.NaN)).rejects.toBeInstanceOf(TypeError);
    await expect(store.keys({ cursor: "x' OR 1=1 --" })).rejects.toBeInstanceOf(TypeError);
    await expect(store.keys({ limit: 0 })).rejects.toBeInstanceOf(TypeError);
    await expect(store.listByUser("")).rejects.toBeInstanceOf(TypeError);
  });

  it("every method of a closed store rejects with STORE_UNAVAILABLE (A30)", async () => {
    const store = createSqliteStore({ path: ":memory:", gcIntervalMs: false });
    await store.close();
    const key = randomKey();
    const calls: [string, Promise<unknown>][] = [
      ["get", store.get(key)],
      ["set", store.set(key, makeRecord(), { ifVersion: 0 })],
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
    for (const [operation, call] of calls) {
      await expect(call).rejects.toMatchObject({
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
    await expect(store.get(randomKey())).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
  });

  it("a driver failure becomes STORE_ERROR with the driver error as cause", async () => {
    const database = new Database(":memory:");
    const store = track(createSqliteStore({ database, gcIntervalMs: false }));
    database.exec(`DROP TABLE "${store.table}"`);
    const error = await rejection(store.get(randomKey()));
    expect(error).toMatchObject({ name: "SessionError", code: "STORE_ERROR", operation: "get" });
    expect((error as Error).cause).toMatchObject({ code: "SQLITE_ERROR" });
    database.close();
  });

  it("a file that cannot be created fails with STORE_UNAVAILABLE and no path in the message", () => {
    let error: unknown;
    try {
      createSqliteStore({ path: "/nonexistent-dir-sk/secret-name.db" });
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

  it("rename(old, new) rejects when new is taken by a live record, changing nothing", async () => {
    const store = track(createSqliteStore({ path: ":memory:", gcIntervalMs: false }));
    const [a, b] = [randomKey(), randomKey()];
    const ra = makeRecord({ payload: '"a"' });
    const rb = makeRecord({ payload: '"b"' });
    await store.set(a, ra, { ifVersion: 0 });
    await store.set(b, rb, { ifVersion: 0 });
    await expect(store.rename(a, b, ra)).rejects.toBeInstanceOf(TypeError);
    expect(await store.get(a)).toEqual(ra);
    expect(await store.get(b)).toEqual(rb);
  });
});

describe("options", () => {
  it("createSqliteStore() rejects bad options with a TypeError", () => {
    const database = new Database(":memory:");
    try {
      const bad: unknown[] = [
        {},
        { path: "" },
        { path: ":memory:", database },
        { path: ":memory:", table: 'x"; DROP TABLE y; --' },
        { path: ":memory:", table: "sqlite_master" },
        { path: ":memory:", table: "sessionkit_schema" },
        { path: ":memory:", table: "1abc" },
        { path: ":memory:", busyTimeoutMs: -1 },
        { path: ":memory:", gcIntervalMs: 0 },
        { path: ":memory:", gcBatchSize: 1.5 },
      ];
      for (const options of bad) {
        expect(() => createSqliteStore(options as never), JSON.stringify(options)).toThrow(
          TypeError,
        );
      }
    } finally {
      database.close();
    }
  });

  it("a store opened from a path syncs every commit (synchronous = FULL) unless told otherwise", () => {
    const full = track(createSqliteStore({ path: newPath(), gcIntervalMs: false }));
    expect(full.database.pragma("synchronous", { simple: true })).toBe(2);
    const normal = track(
      createSqliteStore({ path: newPath(), synchronous: "normal", gcIntervalMs: false }),
    );
    expect(normal.database.pragma("synchronous", { simple: true })).toBe(1);
  });

  it("close() leaves a database the user passed in open, and sets WAL and busy_timeout on it", async () => {
    const path = newPath();
    const database = new Database(path);
    const store = createSqliteStore({ database, busyTimeoutMs: 1_234, gcIntervalMs: false });
    expect(database.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(database.pragma("busy_timeout", { simple: true })).toBe(1_234);
    // Left as the user configured it: synchronous was not passed.
    expect(database.pragma("synchronous", { simple: true })).toBe(1);
    await store.close();
    expect(database.open).toBe(true);
    database.close();
  });

  it("two tables in one file are independent stores", async () => {
    const path = newPath();
    const a = track(createSqliteStore({ path, table: "sessions_a", gcIntervalMs: false }));
    const b = track(createSqliteStore({ path, table: "select", gcIntervalMs: false }));
    const key = randomKey();
    await a.set(key, makeRecord(), { ifVersion: 0 });
    expect(await b.get(key)).toBeNull();
    await b.clear();
    expect(await a.get(key)).not.toBeNull();
  });
});

describe("schema", () => {
  it("the factory records schema version 1 per table in sessionkit_schema", () => {
    const path = newPath();
    track(createSqliteStore({ path, table: "t1", gcIntervalMs: false }));
    const rows = withRawConnection(path, (db) =>
      db.prepare("SELECT table_name, version FROM sessionkit_schema").all(),
    );
    expect(rows).toEqual([{ table_name: "t1", version: 1 }]);
  });

  it("migrate: false refuses an unmigrated file with INVALID_CONFIG, and works after migrateSqliteSchema()", async () => {
    const path = newPath();
    expect(() => createSqliteStore({ path, migrate: false, gcIntervalMs: false })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG" }),
    );
    const database = new Database(path);
    expect(migrateSqliteSchema(database)).toBe(1);
    expect(migrateSqliteSchema(database)).toBe(1);
    database.close();
    const store = track(createSqliteStore({ path, migrate: false, gcIntervalMs: false }));
    expect(await store.set(randomKey(), makeRecord(), { ifVersion: 0 })).toBe(true);
  });

  it("a schema newer than this package is refused with INVALID_CONFIG", () => {
    const database = new Database(":memory:");
    try {
      migrateSqliteSchema(database);
      database.prepare("UPDATE sessionkit_schema SET version = 99").run();
      expect(() => createSqliteStore({ database })).toThrow(
        expect.objectContaining({ code: "INVALID_CONFIG" }),
      );
    } finally {
      database.close();
    }
  });
});

describe("sqliteProvider", () => {
  it("opens sqlite::memory: and sqlite:<path> URLs through a registry", async () => {
    const registry = createStoreRegistry().register(sqliteProvider);
    const memory = (await registry.open("sqlite::memory:?gcIntervalMs=false")) as SqliteStore;
    track(memory);
    expect(memory.database.memory).toBe(true);

    const path = newPath();
    const file = track(
      (await registry.open(`sqlite:${path}?table=web_sessions&busyTimeoutMs=750`)) as SqliteStore,
    );
    expect(file.table).toBe("web_sessions");
    expect(file.database.name).toBe(path);
    expect(file.database.pragma("busy_timeout", { simple: true })).toBe(750);
    const key = randomKey();
    const record: SessionRecord = makeRecord();
    await file.set(key, record, { ifVersion: 0 });
    expect(await file.get(key)).toEqual(record);

    const viaSlashes = track(
      (await registry.open(`sqlite://${path}?table=web_sessions`)) as SqliteStore,
    );
    expect(viaSlashes.database.name).toBe(path);
    expect(await viaSlashes.get(key)).toEqual(record);
  });
});
