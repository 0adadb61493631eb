import type { SessionCodec } from "./codec.js";
import type { Config } from "./config.js";
import { ErrorCode, SessionError } from "./errors.js";

function sameValue(codec: SessionCodec, a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return codec.encode(a) === codec.encode(b);
}

/**
 * Applies this request's changes (relative to `base`) onto `fresh`, the
 * version another request committed meanwhile. Keys this request did not
 * touch keep the other request's values, so concurrent requests changing
 * different keys both survive.
 */
export function mergeInto(
  config: Config,
  base: Readonly<Record<string, unknown>>,
  mine: Readonly<Record<string, unknown>>,
  fresh: Record<string, unknown>,
): void {
  // Own keys only: data objects may have Object.prototype (decoded JSON) or none.
  const changed = new Set<string>();
  for (const key of Object.keys(mine))
    if (!Object.hasOwn(base, key) || !sameValue(config.codec, mine[key], base[key]))
      changed.add(key);
  for (const key of Object.keys(base)) if (!Object.hasOwn(mine, key)) changed.add(key);
  for (const key of changed) {
    if (config.conflict === "error" && !sameValue(config.codec, fresh[key], base[key])) {
      config.emit("conflict", undefined, ErrorCode.CONFLICT);
      throw new SessionError(
        ErrorCode.CONFLICT,
        `another request changed session key "${key}" at the same time`,
        { store: config.store.name, operation: "set" },
      );
    }
    if (Object.hasOwn(mine, key)) fresh[key] = mine[key];
    else delete fresh[key];
  }
}
