import { createStoreRegistry } from "@sessionkit/core";
import { createPostgresStore, postgresProvider } from "@sessionkit/store-postgres";

const databaseUrl = process.env.DATABASE_URL ?? "postgres://localhost:5432/app";

// The store creates its own pool, with timeouts, and ends it on close():
export const owned = createPostgresStore({ url: databaseUrl, operationTimeoutMs: 1_000 });

// Or from configuration, through a registry, with options as query parameters:
const url = new URL(databaseUrl);
url.searchParams.set("operationTimeoutMs", "1000");
const registry = createStoreRegistry().register(postgresProvider);
export const configured = await registry.open(url.toString());
