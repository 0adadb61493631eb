import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createStoreRegistry, type SessionStore, type StoreRegistry } from "@sessionkit/core";
import { postgresProvider } from "@sessionkit/store-postgres";
import { redisProvider } from "@sessionkit/store-redis";
import { sqliteProvider } from "@sessionkit/store-sqlite";

/** Where sessions live when `SESSION_STORE_URL` is unset: `examples/demo/data/sessions.db`. */
export const DEFAULT_SQLITE_PATH = fileURLToPath(new URL("../data/sessions.db", import.meta.url));

/** The stores the demo can use, registered explicitly (no name ever becomes a dynamic import). */
export function createDemoRegistry(): StoreRegistry {
  return createStoreRegistry()
    .register(sqliteProvider)
    .register(redisProvider)
    .register(postgresProvider);
}

/**
 * Opens the session store named by a URL (`sqlite:…`, `redis://…`,
 * `postgres://…`), or the SQLite file {@link DEFAULT_SQLITE_PATH} when the
 * URL is unset, creating its folder. The SQL stores create their table on
 * first use (`migrate: "auto"`, their default); in production run
 * `sessionkit migrate` at deploy time and add `migrate=verify` to the URL.
 */
export async function openStore(url: string | undefined): Promise<SessionStore> {
  if (url === undefined) {
    mkdirSync(dirname(DEFAULT_SQLITE_PATH), { recursive: true, mode: 0o700 });
    return createDemoRegistry().open(`sqlite:${DEFAULT_SQLITE_PATH}`);
  }
  return createDemoRegistry().open(url);
}
