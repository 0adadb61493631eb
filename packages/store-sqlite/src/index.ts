export {
  createSqliteStore,
  migrateSqliteSchema,
  type SqliteDatabase,
  type SqliteMigrateOptions,
  type SqliteStore,
  type SqliteStoreBaseOptions,
  type SqliteStoreDatabaseOptions,
  type SqliteStoreOptions,
  type SqliteStorePathOptions,
  sqliteProvider,
} from "./sqlite-store.js";
