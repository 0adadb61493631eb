import type { StoreProvider } from "@sessionkit/core/store";
import type { SqliteStoreOptions } from "./options.js";
import { createSqliteStore } from "./sqlite-store.js";

/**
 * Registry provider of the SQLite store: `create(options)` takes
 * {@link SqliteStoreOptions}; `fromUrl` opens `sqlite:` URLs as
 * `parseSqliteUrl` reads them, such as `sqlite:./sessions.db`,
 * `sqlite:/abs/path.db?gcIntervalMs=false` or `sqlite::memory:`.
 *
 * @example
 * ```ts
 * import { createStoreRegistry } from "@sessionkit/core";
 * import { sqliteProvider } from "@sessionkit/store-sqlite";
 *
 * const store = await createStoreRegistry()
 *   .register(sqliteProvider)
 *   .open("sqlite:./sessions.db?table=web_sessions");
 * ```
 */
export const sqliteProvider: StoreProvider<SqliteStoreOptions> = {
  name: "sqlite",
  schemes: ["sqlite"],
  create: (options) => createSqliteStore(options),
  fromUrl: (url) => createSqliteStore({ url }),
};
