import type { Config } from "./config.js";
import { decodeContents } from "./envelope.js";
import { ErrorCode, SessionError } from "./errors.js";
import type { SessionState } from "./state.js";
import type { SessionStore } from "./store.js";
import { storeCall } from "./store-call.js";
import type { SessionInfo } from "./types.js";

/**
 * A user's sessions ("your devices"): listing and revoking them. Unlike
 * `regenerate()` and `destroy()`, which take effect at commit, these act on the
 * store at once.
 */

type UserIndex = Required<Pick<SessionStore, "listByUser" | "destroyByUser">>;

/** The store's per-user index, or `UNSUPPORTED` naming the call that needs it. */
function userIndex(config: Config, operation: string): UserIndex {
  const { store } = config;
  const { listByUser, destroyByUser } = store;
  if (!store.capabilities.userIndex || listByUser === undefined || destroyByUser === undefined) {
    throw new SessionError(
      ErrorCode.UNSUPPORTED,
      `${operation} needs a store with the "userIndex" capability; "${store.name}" has none`,
    );
  }
  return { listByUser: listByUser.bind(store), destroyByUser: destroyByUser.bind(store) };
}

/** Destroys every session of the session's user except this one. */
export async function destroyOtherSessions(config: Config, s: SessionState): Promise<number> {
  const { destroyByUser } = userIndex(config, "destroyOtherSessions()");
  const { userId, key } = s;
  if (userId === undefined) return 0;
  return storeCall(config, "destroyByUser", () =>
    destroyByUser(userId, key === undefined ? {} : { exceptKey: key }),
  );
}

/** The user's live sessions, newest first. */
export async function listSessions<Data extends object>(
  config: Config,
  s: SessionState,
): Promise<SessionInfo<Data>[]> {
  const { listByUser } = userIndex(config, "listSessions()");
  const { userId, key: currentKey } = s;
  if (userId === undefined) return [];
  const entries = await storeCall(config, "listByUser", () => listByUser(userId));
  return entries
    .map(({ key, record }) => ({
      handle: config.handleOf(key),
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
      current: key === currentKey,
      data: decodeContents(config.codec, record.payload, config.maxPayloadBytes)?.data as
        | Partial<Data>
        | undefined,
    }))
    .sort((a, b) => b.createdAt - a.createdAt);
}

/**
 * Destroys one of the user's sessions by its handle; false if it is not
 * theirs. The current session's own handle ends it the way `destroy()` does
 * (at commit, clearing the cookie), so the session object never outlives its
 * record.
 */
export async function destroySession(
  config: Config,
  s: SessionState,
  handle: string,
): Promise<boolean> {
  const { listByUser } = userIndex(config, "destroySession()");
  const { userId } = s;
  if (userId === undefined || typeof handle !== "string") return false;
  const entries = await storeCall(config, "listByUser", () => listByUser(userId));
  const entry = entries.find(({ key }) => config.handleOf(key) === handle);
  if (entry === undefined) return false;
  if (entry.key === s.key) s.destroyed = true;
  else await storeCall(config, "destroy", () => config.store.destroy(entry.key));
  return true;
}

/** Destroys every session of a user, e.g. after a password change. */
export async function destroyUserSessions(config: Config, userId: string): Promise<number> {
  const { destroyByUser } = userIndex(config, "destroyUserSessions()");
  return storeCall(config, "destroyByUser", () => destroyByUser(userId));
}
