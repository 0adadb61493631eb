import type { SessionStore } from "@sessionkit/core";
import {
  DEFAULT_KEYS_PAGE,
  isSessionStore,
  MAX_KEYS_PAGE,
  storeConfigError,
  wholeNumberOption,
} from "@sessionkit/core/store";
import type { SessionData } from "express-session";

/** Options of {@link createExpressSessionStore}. */
export interface ExpressSessionStoreOptions {
  /**
   * How long a session lives in the store when its cookie has no expiry
   * (express-session's default browser-session cookie, `maxAge` unset), in ms.
   * With `cookie.maxAge` set, the cookie's `expires` decides instead.
   * @default 86400000 (1 day)
   */
  readonly ttlMs?: number | undefined;
  /**
   * The owner of a session, for the store's per-user index (`listByUser`,
   * `destroyByUser`). Return `undefined` for anonymous sessions.
   * @default none: no session has an owner
   */
  readonly userId?: ((session: SessionData) => string | undefined) | undefined;
  /**
   * Largest JSON of one session, in bytes (UTF-8). A larger save fails with a
   * `SessionError` of code `PAYLOAD_TOO_LARGE` and writes nothing.
   * @default 65536
   */
  readonly maxPayloadBytes?: number | undefined;
  /**
   * Keys fetched per page by `all()`, from 1 to 1000.
   * @default 500
   */
  readonly pageSize?: number | undefined;
  /**
   * The clock `ttlMs` and `createdAt` are counted from, in epoch ms, called on
   * every save and touch.
   * @default Date.now
   */
  readonly now?: (() => number) | undefined;
}

/** The bridge's options, checked and filled in, with the store it wraps. */
export interface BridgeConfig {
  readonly store: SessionStore;
  readonly ttlMs: number;
  readonly userId: ((session: SessionData) => string | undefined) | undefined;
  readonly maxPayloadBytes: number;
  readonly pageSize: number;
  readonly now: () => number;
}

/** The name the bridge's errors carry. */
export const BRIDGE_NAME = "express-session";

const DAY_MS = 86_400_000;

/**
 * Checks the wrapped store and the options: anything wrong is a `SessionError`
 * of code `INVALID_CONFIG` naming the option, as for every sessionkit store.
 */
export function resolveBridgeConfig(
  store: SessionStore,
  options: ExpressSessionStoreOptions | undefined,
): BridgeConfig {
  if (!isSessionStore(store)) {
    throw storeConfigError(
      BRIDGE_NAME,
      "createExpressSessionStore(store): pass a sessionkit SessionStore (get, set, destroy, capabilities)",
    );
  }
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw storeConfigError(BRIDGE_NAME, "options must be an object");
  }
  const pageSize = wholeNumberOption(
    BRIDGE_NAME,
    "pageSize",
    options?.pageSize ?? DEFAULT_KEYS_PAGE,
  );
  if (pageSize > MAX_KEYS_PAGE) {
    throw storeConfigError(
      BRIDGE_NAME,
      `pageSize must be at most ${MAX_KEYS_PAGE} (got ${pageSize})`,
    );
  }
  const userId = options?.userId;
  if (userId !== undefined && typeof userId !== "function") {
    throw storeConfigError(BRIDGE_NAME, "userId must be a function");
  }
  const now = options?.now ?? Date.now;
  if (typeof now !== "function") throw storeConfigError(BRIDGE_NAME, "now must be a function");
  return {
    store,
    ttlMs: wholeNumberOption(BRIDGE_NAME, "ttlMs", options?.ttlMs ?? DAY_MS),
    userId,
    maxPayloadBytes: wholeNumberOption(
      BRIDGE_NAME,
      "maxPayloadBytes",
      options?.maxPayloadBytes ?? 65_536,
    ),
    pageSize,
    now,
  };
}
