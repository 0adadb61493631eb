import type { SessionStore } from "@sessionkit/core/store";
import { describe } from "vitest";
import { argumentsGroup } from "./groups/arguments.js";
import { basicGroup } from "./groups/basic.js";
import { closedGroup } from "./groups/closed.js";
import { compareAndSetGroup } from "./groups/compare-and-set.js";
import { concurrencyGroup } from "./groups/concurrency.js";
import { expiryGroup } from "./groups/expiry.js";
import { gcGroup } from "./groups/gc.js";
import { listingGroup } from "./groups/listing.js";
import { manifestGroup } from "./groups/manifest.js";
import { renameGroup } from "./groups/rename.js";
import { touchGroup } from "./groups/touch.js";
import { userIndexGroup } from "./groups/user-index.js";
import type { ConformanceGroup, ConformanceOptions } from "./options.js";

/** Every group, in the order {@link describeStoreConformance} registers them. */
export const conformanceGroups = {
  manifest: manifestGroup,
  arguments: argumentsGroup,
  basic: basicGroup,
  expiry: expiryGroup,
  touch: touchGroup,
  compareAndSet: compareAndSetGroup,
  rename: renameGroup,
  userIndex: userIndexGroup,
  listing: listingGroup,
  gc: gcGroup,
  concurrency: concurrencyGroup,
  closed: closedGroup,
} as const satisfies Record<string, ConformanceGroup>;

/**
 * Registers the whole store contract as vitest tests. Call it at the top level
 * of a test file.
 *
 * @example
 * ```ts
 * import { describeStoreConformance } from "@sessionkit/conformance";
 * import { createMemoryStore } from "@sessionkit/store-memory";
 *
 * describeStoreConformance("memory", {
 *   createStore: ({ now }) => createMemoryStore({ now }),
 *   clock: "suite",
 * });
 * ```
 */
export function describeStoreConformance<S extends SessionStore>(
  name: string,
  options: ConformanceOptions<S>,
): void {
  describe(`store conformance: ${name}`, () => {
    for (const group of Object.values(conformanceGroups)) group(options);
  });
}
