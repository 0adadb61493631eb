export type {
  SqliteDatabase,
  SqliteStoreCommonOptions,
  SqliteStoreDatabaseOptions,
  SqliteStoreOptions,
  SqliteStoreUrlOptions,
  SqliteSynchronous,
} from "./options.js";
export { sqliteProvider } from "./provider.js";
export {
  CURRENT_SCHEMA_VERSION,
  type MigrationResult,
  sqliteSchemaVersion,
  VERSION_TABLE,
} from "./schema.js";
export { createSqliteStore, type SqliteStore } from "./sqlite-store.js";
export { parseSqliteUrl, type SqliteUrl, type SqliteUrlOptions } from "./url.js";
