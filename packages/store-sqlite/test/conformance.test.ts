import { describeStoreConformance, type StoreInspector } from "@sessionkit/conformance";
import type { SessionStore } from "@sessionkit/core";
import { createSqliteStore, type SqliteStore } from "@sessionkit/store-sqlite";
import type Database from "better-sqlite3";
import { removeDbFiles, tempDbPath, withRawConnection } from "./helpers.js";

interface RawRow {
  expires_at: number;
}

const rawRow = (db: Database.Database, store: SqliteStore, key: string): RawRow | undefined =>
  db.prepare(`SELECT expires_at FROM "${store.table}" WHERE key = ?`).get(key) as
    | RawRow
    | undefined;

// A33 / A35: the whole contract, on a file database (WAL) and on :memory:.
const paths = new WeakMap<SessionStore, string>();

const fileInspector: StoreInspector = {
  async exists(store, key) {
    const path = paths.get(store) as string;
    return withRawConnection(path, (db) => rawRow(db, store as SqliteStore, key) !== undefined);
  },
  async storedExpiresAt(store, key) {
    const path = paths.get(store) as string;
    return withRawConnection(
      path,
      (db) => rawRow(db, store as SqliteStore, key)?.expires_at ?? null,
    );
  },
};

describeStoreConformance<SqliteStore>("sqlite (file)", {
  createStore({ now }) {
    const path = tempDbPath();
    const store = createSqliteStore({ url: `sqlite:${path}`, now, gcIntervalMs: false });
    paths.set(store, path);
    return store;
  },
  async teardown(store) {
    await store.close();
    removeDbFiles(paths.get(store) as string);
  },
  inspect: fileInspector,
  clock: "suite",
});

// :memory: has no second connection to look through, so the hooks read the store's own handle.
const memoryInspector: StoreInspector = {
  async exists(store, key) {
    const sqlite = store as SqliteStore;
    return rawRow(sqlite.database, sqlite, key) !== undefined;
  },
  async storedExpiresAt(store, key) {
    const sqlite = store as SqliteStore;
    return rawRow(sqlite.database, sqlite, key)?.expires_at ?? null;
  },
};

describeStoreConformance<SqliteStore>("sqlite (:memory:)", {
  createStore: ({ now }) => createSqliteStore({ url: "sqlite::memory:", now, gcIntervalMs: false }),
  inspect: memoryInspector,
  clock: "suite",
});
