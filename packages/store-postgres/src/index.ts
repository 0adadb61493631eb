export type { MigrationResult } from "./migrate.js";
export type {
  PostgresPoolConfig,
  PostgresPooler,
  PostgresStoreCommonOptions,
  PostgresStoreOptions,
  PostgresStorePoolOptions,
  PostgresStoreUrlOptions,
} from "./options.js";
export { createPostgresStore, type PostgresStore } from "./postgres-store.js";
export { postgresProvider } from "./provider.js";
export { CURRENT_SCHEMA_VERSION, VERSION_TABLE } from "./schema.js";
export {
  type ParsedPostgresUrl,
  type PostgresConnection,
  type PostgresUrlOptions,
  parsePostgresUrl,
} from "./url.js";
