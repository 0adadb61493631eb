export {
  createPostgresStore,
  type MigrationResult,
  type PostgresPooler,
  type PostgresStore,
  type PostgresStoreOptions,
  type PostgresStorePoolOptions,
  type PostgresStoreUrlOptions,
  postgresProvider,
} from "./postgres-store.js";
export { CURRENT_SCHEMA_VERSION, VERSION_TABLE } from "./schema.js";
