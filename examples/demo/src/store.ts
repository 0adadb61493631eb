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
 * A Postgres URL without `createTableIfMissing` gets it: the demo is for
 * development, where creating the table on first use is convenient. In
 * production run `migrate()` at deploy time instead.
 */
export function withDemoDefaults(url: string): string {
  if (!/^postgres(ql)?:/i.test(url)) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Never echo the URL: it may hold a password.
    throw new Error("SESSION_STORE_URL is not a valid postgres:// URL (its value is not shown)");
  }
  if (!parsed.searchParams.has("createTableIfMissing")) {
    parsed.searchParams.set("createTableIfMissing", "true");
  }
  return parsed.toString();
}

/**
 * Opens the session store named by a URL (`sqlite:…`, `redis://…`,
 * `postgres://…`), or the SQLite file {@link DEFAULT_SQLITE_PATH} when the
 * URL is unset, creating its folder.
 */
export async function openStore(url: string | undefined): Promise<SessionStore> {
  if (url === undefined) {
    mkdirSync(dirname(DEFAULT_SQLITE_PATH), { recursive: true, mode: 0o700 });
    return createDemoRegistry().open(`sqlite:${DEFAULT_SQLITE_PATH}`);
  }
  return createDemoRegistry().open(withDemoDefaults(url));
}
