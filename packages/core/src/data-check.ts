import { FORBIDDEN_KEYS } from "./codec.js";
import type { Config } from "./config.js";
import type { Contents } from "./envelope.js";
import { ErrorCode, SessionError } from "./errors.js";
import { describeIssues } from "./standard-schema.js";

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

/** `undefined` when `data` passes the schema (or there is none), else why not. */
async function validate(
  config: Config,
  data: Record<string, unknown>,
): Promise<string | undefined> {
  const { schema } = config;
  if (schema === undefined) return undefined;
  // The schema sees a plain object, as the app wrote it.
  const result = await schema["~standard"].validate({ ...data });
  return result.issues === undefined ? undefined : describeIssues(result.issues);
}

/** Runs `upgrade` and the schema on freshly loaded contents, changing them in place. */
export function checkLoadedData(
  config: Config,
  contents: Contents,
): LoadedData | Promise<LoadedData> {
  // Nothing to upgrade and no schema: the common case answers without a promise.
  if (config.schema === undefined && contents.version === config.version) return OK;
  return checkAndUpgrade(config, contents);
}

const OK: LoadedData = { verdict: "ok" };

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

/** Fails with `INVALID_DATA`, before anything is written, when the schema refuses `data`. */
export async function validateForWrite(
  config: Config,
  data: Record<string, unknown>,
): Promise<void> {
  const reason = await validate(config, data);
  if (reason !== undefined) {
    throw new SessionError(
      ErrorCode.INVALID_DATA,
      `session data does not match the schema: ${reason}`,
      { store: config.store.name, operation: "set" },
    );
  }
}
