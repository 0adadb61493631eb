import { existsSync } from "node:fs";
import { createStoreRegistry, type SessionStore, type StoreRegistry } from "@sessionkit/core";
import { memoryProvider } from "@sessionkit/store-memory";
import { postgresProvider } from "@sessionkit/store-postgres";
import { redisProvider } from "@sessionkit/store-redis";
import { sqliteProvider } from "@sessionkit/store-sqlite";
import { CliError, toCliError, withTimeout } from "./cli-error.js";
import { parseSqliteUrl, redactUrl, schemeOf } from "./url.js";

/** A registry with every store of sessionkit: `redis…://`, `postgres://`, `sqlite:` and `memory:`. */
export function cliRegistry(): StoreRegistry {
  return createStoreRegistry([redisProvider, postgresProvider, sqliteProvider, memoryProvider]);
}

/**
 * Opens a store from its URL through the registry; a bad URL becomes a
 * one-line `CliError`. A SQLite file must exist unless `create` is set
 * (the store would otherwise create an empty one on a mistyped path).
 */
export async function openStore(
  url: string,
  timeoutMs: number,
  options: { readonly create?: boolean } = {},
): Promise<SessionStore> {
  if (schemeOf(url) === "sqlite" && options.create !== true) {
    const { path } = parseSqliteUrl(url);
    if (path !== ":memory:" && path !== "" && !existsSync(path)) {
      throw new CliError(
        "STORE_UNAVAILABLE",
        `cannot open ${redactUrl(url)}: ${path} does not exist (sessionkit migrate creates it)`,
      );
    }
  }
  try {
    return await withTimeout(
      cliRegistry().open(withoutSchemaChanges(url)),
      timeoutMs,
      `opening ${redactUrl(url)}`,
    );
  } catch (error) {
    throw toCliError(error, `cannot open ${redactUrl(url)}`);
  }
}

/**
 * The URL with `migrate=off` added for the SQL stores, unless it sets
 * `migrate` itself: inspecting or pruning a store never creates or upgrades
 * its schema (only `sessionkit migrate` does, by calling `store.migrate()`).
 */
export function withoutSchemaChanges(url: string): string {
  const scheme = schemeOf(url);
  if (scheme !== "postgres" && scheme !== "postgresql" && scheme !== "sqlite") return url;
  const query = url.includes("?") ? new URLSearchParams(url.slice(url.indexOf("?") + 1)) : null;
  if (query?.has("migrate") === true) return url;
  return `${url}${query === null ? "?" : "&"}migrate=off`;
}

/**
 * Runs a first operation on a freshly opened store, bounded by `timeoutMs`,
 * so an unreachable server fails with one clear line. Closes the store on failure.
 */
export async function firstContact<T>(
  store: SessionStore,
  url: string,
  timeoutMs: number,
  operation: () => Promise<T>,
): Promise<T> {
  try {
    return await withTimeout(operation(), timeoutMs, `cannot reach ${redactUrl(url)}`);
  } catch (error) {
    await closeQuietly(store);
    throw toCliError(error, `cannot reach ${redactUrl(url)}`);
  }
}

/** Closes a store, ignoring a failure to close (the command's result already stands). */
export async function closeQuietly(store: SessionStore): Promise<void> {
  try {
    await store.close?.();
  } catch {
    // Nothing useful to report: the connection is going away with the process.
  }
}
