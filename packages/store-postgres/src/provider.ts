import type { StoreProvider } from "@sessionkit/core/store";
import type { PostgresStoreOptions } from "./options.js";
import { createPostgresStore } from "./postgres-store.js";

/**
 * Registry provider of the Postgres store: opens `postgres://` and
 * `postgresql://` URLs, with store options as query parameters (the grammar
 * of {@link parsePostgresUrl}), or `{ provider: "postgres", options }`.
 *
 * @example
 * ```ts
 * import { createStoreRegistry } from "@sessionkit/core";
 * import { postgresProvider } from "@sessionkit/store-postgres";
 *
 * const registry = createStoreRegistry().register(postgresProvider);
 * const store = await registry.open("postgres://app@db:5432/app?table=sessions");
 * ```
 */
export const postgresProvider: StoreProvider<PostgresStoreOptions> = {
  name: "postgres",
  schemes: ["postgres", "postgresql"],
  create: (options) => createPostgresStore(options),
  fromUrl: (url) => createPostgresStore({ url }),
};
