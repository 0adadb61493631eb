import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { faultInjectionGroup } from "@sessionkit/conformance";
import { createSqliteStore, type SqliteStore } from "@sessionkit/store-sqlite";
import Database from "better-sqlite3";

// The connection that holds the write lock during the fault, per store.
const holders = new Map<SqliteStore, Database.Database>();

faultInjectionGroup<SqliteStore>({
  createStore: (timeoutMs) =>
    createSqliteStore({
      url: `sqlite:${join(mkdtempSync(join(tmpdir(), "sk_sqlite_fail_")), "sessions.db")}`,
      operationTimeoutMs: timeoutMs,
      gcIntervalMs: false,
    }),
  async teardown(store) {
    const file = store.database.name;
    await store.close();
    rmSync(dirname(file), { recursive: true, force: true });
  },
  faults: [
    {
      // Another process of the same machine mid-transaction (A33): in WAL mode
      // readers go on, writers wait busy_timeout and then fail retryably.
      name: "another connection holds the write lock",
      readsSurvive: true,
      inject(store) {
        const holder = new Database(store.database.name);
        holder.exec("BEGIN IMMEDIATE");
        holders.set(store, holder);
      },
      heal(store) {
        const holder = holders.get(store);
        holders.delete(store);
        holder?.exec("ROLLBACK");
        holder?.close();
      },
    },
  ],
});
