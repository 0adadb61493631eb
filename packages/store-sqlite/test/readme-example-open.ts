import { createStoreRegistry } from "@sessionkit/core";
import { createSqliteStore, sqliteProvider } from "@sessionkit/store-sqlite";
import Database from "better-sqlite3";

// A connection you opened yourself: close() leaves it open.
export const database = new Database("./app.db");
export const shared = createSqliteStore({ database, table: "web_sessions" });

// From configuration: sqlite:./sessions.db, sqlite:/abs/path.db or sqlite::memory:
const registry = createStoreRegistry().register(sqliteProvider);
export const configured = await registry.open(
  process.env.SESSION_STORE_URL ?? "sqlite:./sessions.db",
);
