import { existsSync } from "node:fs";
import { makeRecord, randomKey } from "@sessionkit/conformance";
import { createStoreRegistry, type SessionRecord } from "@sessionkit/core";
import {
  CURRENT_SCHEMA_VERSION,
  createSqliteStore,
  parseSqliteUrl,
  type SqliteStore,
  type SqliteStoreOptions,
  sqliteProvider,
  sqliteSchemaVersion,
  VERSION_TABLE,
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

const thrown = (call: () => unknown): unknown => {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe("options", () => {
  it("createSqliteStore() rejects each bad, unknown or doubly set option with INVALID_CONFIG and creates no file", () => {
    const database = new Database(":memory:");
    const path = newPath();
    const url = `sqlite:${path}`;
    try {
      const bad: [unknown, string][] = [
        [null, "url"],
        [{}, "url"],
        [{ path }, 'unknown option "path"'],
        [{ url: "" }, "sqlite:"],
        [{ url: path }, "sqlite:"],
        [{ url: 42 }, "sqlite:"],
        [{ url, database }, "exactly one"],
        [{ database: {} }, "database"],
        [{ url, table: 'x"; DROP TABLE y; --' }, "table"],
        [{ url, table: "sqlite_master" }, "table"],
        [{ url, table: "sessionkit_schema_version" }, "table"],
        [{ url, table: "1abc" }, "table"],
        [{ url, operationTimeoutMs: 0 }, "operationTimeoutMs"],
        [{ url, operationTimeoutMs: 1.5 }, "operationTimeoutMs"],
        [{ url, gcIntervalMs: 0 }, "gcIntervalMs"],
        [{ url, gcIntervalMs: true }, "gcIntervalMs"],
        [{ url, gcBatchSize: 1.5 }, "gcBatchSize"],
        [{ url, migrate: false }, "migrate"],
        [{ url, migrate: "yes" }, "migrate"],
        [{ url, synchronous: "off" }, "synchronous"],
        [{ url, now: Date.now() }, "now"],
        [{ url, onError: "warn" }, "onError"],
        [{ url, busyTimeoutMs: 100 }, "busyTimeoutMs"],
        [{ url, onGcError: () => {} }, "onGcError"],
        [{ url: `${url}?table=a`, table: "b" }, "table is set both"],
        [{ url: `${url}?gcIntervalMs=false`, gcIntervalMs: 5_000 }, "gcIntervalMs is set both"],
      ];
      for (const [options, named] of bad) {
        const error = thrown(() => createSqliteStore(options as SqliteStoreOptions));
        expect(error, JSON.stringify(options)).toMatchObject({
          name: "SessionError",
          code: "INVALID_CONFIG",
          store: "sqlite",
        });
        expect((error as Error).message, JSON.stringify(options)).toContain(named);
      }
      expect(existsSync(path)).toBe(false);
    } finally {
      database.close();
    }
  });

  it("a store opened from a url syncs every commit (synchronous = FULL) unless told otherwise", () => {
    const full = track(createSqliteStore({ url: `sqlite:${newPath()}`, gcIntervalMs: false }));
    expect(full.database.pragma("synchronous", { simple: true })).toBe(2);
    const normal = track(
      createSqliteStore({ url: `sqlite:${newPath()}`, synchronous: "normal", gcIntervalMs: false }),
    );
    expect(normal.database.pragma("synchronous", { simple: true })).toBe(1);
  });

  it("close() leaves a database the user passed in open, and sets WAL and busy_timeout = operationTimeoutMs on it", async () => {
    const path = newPath();
    const database = new Database(path);
    const store = createSqliteStore({ database, operationTimeoutMs: 1_234, gcIntervalMs: false });
    expect(database.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(database.pragma("busy_timeout", { simple: true })).toBe(1_234);
    // Left as the user configured it: synchronous was not passed.
    expect(database.pragma("synchronous", { simple: true })).toBe(1);
    await store.close();
    expect(database.open).toBe(true);
    database.close();
  });

  it("a read-only database is refused with INVALID_CONFIG", () => {
    const path = newPath();
    new Database(path).close();
    const database = new Database(path, { readonly: true });
    try {
      expect(thrown(() => createSqliteStore({ database }))).toMatchObject({
        code: "INVALID_CONFIG",
      });
      expect(database.open).toBe(true);
    } finally {
      database.close();
    }
  });
});

describe("schema", () => {
  it(`migrate "auto" records schema version ${CURRENT_SCHEMA_VERSION} per table in ${VERSION_TABLE}, stamped with the now clock`, () => {
    const path = newPath();
    track(
      createSqliteStore({
        url: `sqlite:${path}`,
        table: "t1",
        gcIntervalMs: false,
        now: () => 1_700_000_000_000,
      }),
    );
    const rows = withRawConnection(path, (db) =>
      db.prepare(`SELECT table_name, version, migrated_at FROM ${VERSION_TABLE}`).all(),
    );
    expect(rows).toEqual([{ table_name: "t1", version: 1, migrated_at: 1_700_000_000_000 }]);
    expect(VERSION_TABLE).toBe("sessionkit_schema_version");
  });

  it('migrate "verify" refuses an unmigrated file with INVALID_CONFIG, and opens it once store.migrate() ran', async () => {
    const url = `sqlite:${newPath()}`;
    const error = thrown(() => createSqliteStore({ url, migrate: "verify", gcIntervalMs: false }));
    expect(error).toMatchObject({ code: "INVALID_CONFIG" });
    expect((error as Error).message).toContain("store.migrate()");

    const off = track(createSqliteStore({ url, migrate: "off", gcIntervalMs: false }));
    expect(sqliteSchemaVersion(off.database, off.table)).toBe(0);
    expect(await off.migrate()).toEqual({ fromVersion: 0, toVersion: CURRENT_SCHEMA_VERSION });
    expect(await off.migrate()).toEqual({
      fromVersion: CURRENT_SCHEMA_VERSION,
      toVersion: CURRENT_SCHEMA_VERSION,
    });
    expect(sqliteSchemaVersion(off.database, off.table)).toBe(CURRENT_SCHEMA_VERSION);

    const verified = track(createSqliteStore({ url, migrate: "verify", gcIntervalMs: false }));
    expect(await verified.set(randomKey(), makeRecord(), { ifVersion: 0 })).toBe(true);
  });

  it('migrate "off" touches no schema: a call fails with STORE_ERROR naming store.migrate() until it ran', async () => {
    const store = track(
      createSqliteStore({ url: "sqlite::memory:", migrate: "off", gcIntervalMs: false }),
    );
    const key = randomKey();
    await expect(store.get(key)).rejects.toMatchObject({
      code: "STORE_ERROR",
      message: expect.stringContaining("store.migrate()"),
    });
    await store.migrate();
    expect(await store.set(key, makeRecord(), { ifVersion: 0 })).toBe(true);
  });

  it("a schema newer than this package is refused with INVALID_CONFIG by every migrate mode and by migrate()", async () => {
    const database = new Database(":memory:");
    try {
      const store = createSqliteStore({ database, gcIntervalMs: false });
      database.prepare(`UPDATE ${VERSION_TABLE} SET version = 99`).run();
      await expect(store.migrate()).rejects.toMatchObject({ code: "INVALID_CONFIG" });
      await store.close();
      for (const migrate of ["auto", "verify"] as const) {
        const error = thrown(() => createSqliteStore({ database, migrate }));
        expect(error, migrate).toMatchObject({ code: "INVALID_CONFIG" });
        expect((error as Error).message).toContain("upgrade @sessionkit/store-sqlite");
      }
      expect(database.open).toBe(true);
    } finally {
      database.close();
    }
  });
});

describe("sqlite: URLs", () => {
  it("parseSqliteUrl(url) reads the path literally, and the options its parameters set", () => {
    expect(parseSqliteUrl("sqlite:./sessions.db")).toEqual({ path: "./sessions.db", options: {} });
    expect(parseSqliteUrl("sqlite:sessions.db").path).toBe("sessions.db");
    expect(parseSqliteUrl("sqlite:/var/lib/app/s.db").path).toBe("/var/lib/app/s.db");
    expect(parseSqliteUrl("sqlite:///var/lib/app/s.db").path).toBe("/var/lib/app/s.db");
    expect(parseSqliteUrl("SQLITE::memory:").path).toBe(":memory:");
    expect(parseSqliteUrl("sqlite:./a%20b.db").path).toBe("./a%20b.db");
    expect(
      parseSqliteUrl(
        "sqlite:./s.db?table=web&operationTimeoutMs=500&gcIntervalMs=false&gcBatchSize=50&migrate=verify&synchronous=normal",
      ),
    ).toEqual({
      path: "./s.db",
      options: {
        table: "web",
        operationTimeoutMs: 500,
        gcIntervalMs: false,
        gcBatchSize: 50,
        migrate: "verify",
        synchronous: "normal",
      },
    });
  });

  it("parseSqliteUrl(url) rejects no file and unknown, repeated or malformed parameters with INVALID_CONFIG", () => {
    for (const url of [
      "sqlite:",
      "sqlite://",
      "sqlite:?table=x",
      "postgres://localhost/db",
      "sqlite:./s.db?busyTimeoutMs=100",
      "sqlite:./s.db?table=a&table=b",
      "sqlite:./s.db?operationTimeoutMs=soon",
      "sqlite:./s.db?gcIntervalMs=0",
      "sqlite:./s.db?table=sqlite_x",
      "sqlite:./s.db?migrate=true",
      "sqlite:./s.db?synchronous=off",
    ]) {
      expect(
        thrown(() => parseSqliteUrl(url)),
        url,
      ).toMatchObject({ code: "INVALID_CONFIG" });
    }
  });

  it("createSqliteStore({ url }) applies the options the URL sets, beside those given in code", () => {
    const store = track(
      createSqliteStore({
        url: "sqlite::memory:?table=from_url&operationTimeoutMs=750",
        gcIntervalMs: false,
      }),
    );
    expect(store.table).toBe("from_url");
    expect(store.database.pragma("busy_timeout", { simple: true })).toBe(750);
  });

  it("sqliteProvider opens sqlite::memory: and sqlite:<path> URLs through a registry", async () => {
    const registry = createStoreRegistry().register(sqliteProvider);
    const memory = (await registry.open("sqlite::memory:?gcIntervalMs=false")) as SqliteStore;
    track(memory);
    expect(memory.database.memory).toBe(true);

    const path = newPath();
    const file = track(
      (await registry.open(
        `sqlite:${path}?table=web_sessions&operationTimeoutMs=750`,
      )) as SqliteStore,
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

    const configured = track(
      (await registry.open({
        provider: "sqlite",
        options: { url: "sqlite::memory:", gcIntervalMs: false },
      })) as SqliteStore,
    );
    expect(configured.database.memory).toBe(true);
  });
});
