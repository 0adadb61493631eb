import { readUrlParameters, storeConfigError } from "@sessionkit/core/store";
import type { MemoryStoreOptions } from "./memory-store.js";

/** What a `memory:` URL says: the options its query parameters set. */
export interface MemoryUrl {
  /** The `maxEntries` parameter, when given. */
  readonly maxEntries?: number | undefined;
  /** The `gcIntervalMs` parameter (`false` turns the timer off), when given. */
  readonly gcIntervalMs?: number | false | undefined;
}

/**
 * Parses a `memory:` store URL: `memory:` with optional query parameters
 * `maxEntries` and `gcIntervalMs` (`false` allowed), such as
 * `memory:?maxEntries=1000&gcIntervalMs=false`. Anything else (a path, an
 * unknown, repeated or malformed parameter) throws `INVALID_CONFIG`.
 *
 * @example
 * ```ts
 * import { parseMemoryUrl } from "@sessionkit/store-memory";
 *
 * parseMemoryUrl("memory:?maxEntries=1000"); // { maxEntries: 1000 }
 * ```
 */
export function parseMemoryUrl(url: string): MemoryUrl {
  if (typeof url !== "string" || !/^memory:/i.test(url)) {
    throw storeConfigError("memory", 'the URL must start with "memory:"');
  }
  const rest = url.slice("memory:".length).replace(/[?#].*$/s, "");
  if (rest !== "" && rest !== "//") {
    throw storeConfigError("memory", 'a memory: URL names nothing: use "memory:" or "memory:?…"');
  }
  const parameters = readUrlParameters("memory", url, {
    maxEntries: "integer",
    gcIntervalMs: "duration",
  }) as { maxEntries?: number; gcIntervalMs?: number | false };
  return {
    ...(parameters.maxEntries === undefined ? {} : { maxEntries: parameters.maxEntries }),
    ...(parameters.gcIntervalMs === undefined ? {} : { gcIntervalMs: parameters.gcIntervalMs }),
  } satisfies MemoryStoreOptions;
}
