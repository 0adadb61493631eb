import { FORBIDDEN_KEYS } from "./codec.js";
import type { Config } from "./config.js";
import type { Contents } from "./envelope.js";
import { ErrorCode, SessionError } from "./errors.js";
import { describeIssues, type StandardSchemaResult } from "./standard-schema.js";
import { isThenable } from "./thenable.js";

/**
 * Session data across deploys: stored data is brought to the manager's
 * `version` by `upgrade`, then checked against `schema`; data about to be
 * written is checked too.
 */

/** What loading found about a session's data. */
export type LoadedData =
  | { readonly verdict: "ok" | "upgraded" }
  /** Invalid for this deploy; `newer` when a newer deploy wrote it (never deleted). */
  | { readonly verdict: "invalid"; readonly newer: boolean; readonly reason: string };

const OK: LoadedData = { verdict: "ok" };

/** Why data fails the schema, or `undefined` when it passes. */
type Reason = string | undefined;

const reasonOf = (result: StandardSchemaResult<unknown>): Reason =>
  result.issues === undefined ? undefined : describeIssues(result.issues);

/**
 * `undefined` when `data` passes the schema (or there is none), else why not:
 * at once when the schema answers synchronously (zod, valibot and most do), so
 * a checked load or write takes no promise for it.
 */
function validate(config: Config, data: Record<string, unknown>): Reason | Promise<Reason> {
  const { schema } = config;
  if (schema === undefined) return undefined;
  let result: StandardSchemaResult<unknown> | PromiseLike<StandardSchemaResult<unknown>>;
  try {
    // The schema sees a plain object, as the app wrote it.
    result = schema["~standard"].validate({ ...data });
  } catch (error) {
    return Promise.reject(error);
  }
  return isThenable(result) ? Promise.resolve(result).then(reasonOf) : reasonOf(result);
}

/** The verdict on data at the current version, from the schema's reason. */
const verdictOf = (reason: Reason): LoadedData =>
  reason === undefined ? OK : { verdict: "invalid", newer: false, reason };

/** Runs `upgrade` and the schema on freshly loaded contents, changing them in place. */
export function checkLoadedData(
  config: Config,
  contents: Contents,
): LoadedData | Promise<LoadedData> {
  if (contents.version !== config.version) return checkAndUpgrade(config, contents);
  // Data at the current version: no schema, or one that answers at once, takes no promise.
  const reason = validate(config, contents.data);
  return reason instanceof Promise ? reason.then(verdictOf) : verdictOf(reason);
}

async function checkAndUpgrade(config: Config, contents: Contents): Promise<LoadedData> {
  const newer = contents.version > config.version;
  let upgraded = false;
  if (contents.version < config.version) {
    if (config.upgrade !== undefined) {
      let result: unknown;
      try {
        result = await config.upgrade({ ...contents.data }, contents.version);
      } catch (error) {
        const reason = error instanceof Error ? error.message : "upgrade() threw";
        return { verdict: "invalid", newer: false, reason: `upgrade failed: ${reason}` };
      }
      if (result === null || typeof result !== "object" || Array.isArray(result)) {
        return { verdict: "invalid", newer: false, reason: "upgrade() did not return an object" };
      }
      const data: Record<string, unknown> = Object.create(null);
      for (const [key, value] of Object.entries(result)) {
        if (!FORBIDDEN_KEYS.has(key) && value !== undefined) data[key] = value;
      }
      contents.data = data;
    }
    contents.version = config.version;
    upgraded = true;
  }
  const reason = await validate(config, contents.data);
  if (reason !== undefined) return { verdict: "invalid", newer, reason };
  return upgraded ? { verdict: "upgraded" } : OK;
}

/**
 * Fails with `INVALID_DATA`, before anything is written, when the schema
 * refuses `data`: a rejected promise, never a throw. `undefined` when the data
 * passed at once.
 */
export function validateForWrite(
  config: Config,
  data: Record<string, unknown>,
): Promise<void> | undefined {
  const reason = validate(config, data);
  if (reason instanceof Promise) {
    return reason.then((late) => {
      if (late !== undefined) throw refused(config, late);
    });
  }
  return reason === undefined ? undefined : Promise.reject(refused(config, reason));
}

/** The `INVALID_DATA` of a write the schema refused. */
function refused(config: Config, reason: string): SessionError {
  return new SessionError(
    ErrorCode.INVALID_DATA,
    `session data does not match the schema: ${reason}`,
    { store: config.store.name, operation: "set" },
  );
}
