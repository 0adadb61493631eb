import { Deadlines, markOwnDeadline } from "./deadlines.js";
import { ErrorCode, isSessionError, redactSecrets, SessionError } from "./errors.js";
import { scheduleGc } from "./gc-timer.js";
import {
  type CAPABILITY_NAMES,
  defineCapabilities,
  type KeyPage,
  type SessionRecord,
  type SessionStore,
  type StoreCapabilities,
  type StoredSession,
} from "./store.js";
import {
  checkKey,
  checkKeysOptions,
  checkRecord,
  checkUserId,
  checkVersion,
  isArgumentError,
  storeArgumentError,
} from "./store-arguments.js";
import { isThenable } from "./thenable.js";

export { DEFAULT_KEYS_PAGE, MAX_KEYS_PAGE, storeArgumentError } from "./store-arguments.js";

/** What {@link StoreBackend.rename} found. */
export type RenameResult = "moved" | "missing" | "taken";

/**
 * What a backend method answers: a promise, or, from a backend that has its
 * answer in the calling step (an in-process `Map`, better-sqlite3), the value
 * itself. A value saves the promise and the `async` frame of each call; a
 * throw is handled as a rejection would be. The store {@link defineStore}
 * returns answers with a promise either way.
 */
export type BackendAnswer<T> = T | Promise<T>;

/**
 * A backend's own logic, called by the store {@link defineStore} returns once
 * every argument has been checked and while the store is open. Each method gets
 * valid, already-normalised arguments and only implements the storage; errors
 * it throws are classified by {@link StoreDefinition.classify}.
 *
 * A method may answer with a promise or, when it has its answer in the
 * calling step, with the value itself ({@link BackendAnswer}).
 *
 * The capability manifest is derived from the methods present (`userIndex`
 * from `listByUser` together with `destroyByUser`), so a store cannot declare
 * what it does not implement.
 */
export interface StoreBackend {
  /** The live record, or `null`. */
  get(key: string): BackendAnswer<SessionRecord | null>;
  /** Compare-and-set as {@link SessionStore.set}; `ifVersion` is a safe integer ≥ 0. */
  set(key: string, record: SessionRecord, ifVersion: number): BackendAnswer<boolean>;
  /** Deletes the record; a missing key is not an error. */
  destroy(key: string): BackendAnswer<void>;
  /** As {@link SessionStore.touch}; `ifVersion` is a positive integer or undefined. */
  touch?(key: string, expiresAt: number, ifVersion: number | undefined): BackendAnswer<boolean>;
  /**
   * As {@link SessionStore.rename}, reporting what it found: `"moved"`,
   * `"missing"` (the old record is missing, expired or at another version) or
   * `"taken"` (a live record holds `newKey`; nothing changed).
   */
  rename?(
    oldKey: string,
    newKey: string,
    record: SessionRecord,
    ifVersion: number | undefined,
  ): BackendAnswer<RenameResult>;
  /** As {@link SessionStore.listByUser}; `userId` is a storable string of 1 to 512 characters. */
  listByUser?(userId: string): BackendAnswer<StoredSession[]>;
  /** As {@link SessionStore.destroyByUser}. */
  destroyByUser?(userId: string, exceptKey: string | undefined): BackendAnswer<number>;
  /** As {@link SessionStore.count}. */
  count?(): BackendAnswer<number>;
  /** As {@link SessionStore.clear}. */
  clear?(): BackendAnswer<void>;
  /**
   * One page of keys; `limit` is 1 to {@link MAX_KEYS_PAGE}. A cursor this
   * backend never issued is answered with {@link storeArgumentError}.
   */
  keys?(cursor: string | null, limit: number): BackendAnswer<KeyPage>;
  /**
   * As {@link SessionStore.gc}. A backend that prunes in batches starts no new
   * batch once `more()` turns false (the store is closing, or half of
   * `operationTimeoutMs` has passed since the call began, so the batch in
   * flight still ends in time) and resolves to what it removed so far.
   */
  gc?(more: () => boolean): BackendAnswer<number>;
  /** Releases what the backend created. Called once, after every call has settled or timed out. */
  close?(): BackendAnswer<void>;
}

/** Where a background failure happened, for {@link StoreErrorHandler}. */
export interface StoreErrorContext {
  /** The operation, such as `"gc"`, or a backend's own (`"corrupt-record"`). */
  readonly operation: string;
}

/**
 * Receives the failures of work no caller awaits: scheduled gc, and whatever a
 * backend reports. Default: `process.emitWarning`.
 */
export type StoreErrorHandler = (error: SessionError, context: StoreErrorContext) => void;

/** What {@link defineStore} builds a store from. */
export interface StoreDefinition {
  /** Short name used in errors and events, such as `"redis"`. */
  readonly name: string;
  /** The backend logic. */
  readonly backend: StoreBackend;
  /**
   * Turns what the backend threw into a `SessionError` (`STORE_UNAVAILABLE`,
   * `STORE_TIMEOUT`, `STORE_BUSY` or `STORE_ERROR`). A `SessionError` is passed
   * through untouched; anything this returns `undefined` for becomes
   * `STORE_ERROR`. Messages must not hold credentials: use `redactSecrets`.
   */
  readonly classify?: ((error: unknown, operation: string) => SessionError | undefined) | undefined;
  /**
   * Longest a call may take before it rejects with `STORE_TIMEOUT`, whatever
   * the backend does. `false`: no deadline (an in-process backend).
   */
  readonly operationTimeoutMs: number | false;
  /**
   * How often expired records are pruned by calling the backend's `gc`, on a
   * jittered timer that never keeps the process alive and never overlaps a
   * running pass. `false`, or a backend without `gc`: no timer.
   */
  readonly gcIntervalMs?: number | false | undefined;
  /** Background failures. Default: `process.emitWarning`. */
  readonly onError?: StoreErrorHandler | undefined;
}

export const warnStoreError: StoreErrorHandler = (error) => {
  process.emitWarning(error);
};

/** The capabilities a backend's methods make possible. */
function capabilitiesOf(backend: StoreBackend): StoreCapabilities {
  const has = (method: keyof StoreBackend): boolean => typeof backend[method] === "function";
  const declared: Partial<Record<(typeof CAPABILITY_NAMES)[number], boolean>> = {
    touch: has("touch"),
    rename: has("rename"),
    userIndex: has("listByUser") && has("destroyByUser"),
    count: has("count"),
    clear: has("clear"),
    keys: has("keys"),
    gc: has("gc"),
    close: true,
  };
  return defineCapabilities(declared);
}

/**
 * Builds a {@link SessionStore} from a backend, so every store answers every
 * call alike: core checks each argument (a malformed one is a `TypeError`, a
 * user id or payload no store can keep is `INVALID_DATA`), refuses calls after
 * `close()` with `STORE_UNAVAILABLE`, classifies what the backend throws into
 * the `STORE_*` codes, bounds each call by `operationTimeoutMs`, and runs the
 * backend's `gc` on a timer. The backend holds only its storage logic.
 *
 * The returned store always has `close()`; it waits for nothing, stops the gc
 * timer, and closes the backend once. Calling it again is harmless.
 *
 * @example
 * ```ts
 * import { defineStore } from "@sessionkit/core/store";
 *
 * const records = new Map<string, SessionRecord>();
 * const live = (key: string) => {
 *   const record = records.get(key);
 *   return record !== undefined && record.expiresAt > Date.now() ? record : undefined;
 * };
 * // In-process: each method answers at once (no `async`), and no deadline is needed.
 * export const store = defineStore({
 *   name: "map",
 *   operationTimeoutMs: false,
 *   backend: {
 *     get(key) {
 *       return live(key) ?? null;
 *     },
 *     set(key, record, ifVersion) {
 *       if ((live(key)?.version ?? 0) !== ifVersion) return false;
 *       if (record.expiresAt <= Date.now()) records.delete(key);
 *       else records.set(key, record);
 *       return true;
 *     },
 *     destroy(key) {
 *       records.delete(key);
 *     },
 *   },
 * });
 * ```
 */
export function defineStore(definition: StoreDefinition): SessionStore {
  const { name, backend } = definition;
  if (typeof name !== "string" || !/^[a-z][a-z0-9-]{0,63}$/.test(name)) {
    throw new SessionError(
      ErrorCode.INVALID_CONFIG,
      `defineStore(): name must be lowercase letters, digits and dashes (got ${JSON.stringify(name)})`,
    );
  }
  for (const method of ["get", "set", "destroy"] as const) {
    if (typeof backend?.[method] !== "function") {
      throw new SessionError(
        ErrorCode.INVALID_CONFIG,
        `defineStore("${name}"): the backend must implement ${method}()`,
      );
    }
  }
  const timeoutMs = definition.operationTimeoutMs;
  if (timeoutMs !== false && !(Number.isSafeInteger(timeoutMs) && timeoutMs > 0)) {
    throw new SessionError(
      ErrorCode.INVALID_CONFIG,
      `defineStore("${name}"): operationTimeoutMs must be a positive whole number of ms, or false`,
    );
  }
  const onError = definition.onError ?? warnStoreError;
  const classify = definition.classify;
  const deadlines = timeoutMs === false ? undefined : new Deadlines(timeoutMs);
  let closing: Promise<void> | undefined;

  const wrap = (operation: string, error: unknown): unknown => {
    if (isSessionError(error) || isArgumentError(error)) return error;
    const classified = classify?.(error, operation);
    if (classified !== undefined) return classified;
    const detail = error instanceof Error ? `: ${redactSecrets(error.message)}` : "";
    return new SessionError(ErrorCode.STORE_ERROR, `${name}: ${operation}() failed${detail}`, {
      store: name,
      operation,
      cause: error,
    });
  };

  /**
   * Runs one call: the closed guard, then `call` (which checks its arguments
   * first, so a bad one rejects rather than throws), under the deadline, with
   * what it threw classified. An answer the backend gives in this step (not a
   * promise) has nothing left to wait for: it resolves at once, with no
   * deadline timer and no further promise.
   */
  const run = <T>(operation: string, call: () => BackendAnswer<T>): Promise<T> => {
    if (closing !== undefined) {
      return Promise.reject(
        new SessionError(ErrorCode.STORE_UNAVAILABLE, `${name}: the store is closed`, {
          store: name,
          operation,
        }),
      );
    }
    let answer: BackendAnswer<T>;
    try {
      answer = call();
    } catch (error) {
      return Promise.reject(wrap(operation, error));
    }
    if (!isThenable(answer)) return Promise.resolve(answer);
    if (deadlines === undefined) {
      return Promise.resolve(answer).then(undefined, (error: unknown) =>
        Promise.reject(wrap(operation, error)),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const settle = deadlines.watch(() => {
        reject(
          new SessionError(
            ErrorCode.STORE_TIMEOUT,
            `${name}: ${operation}() did not answer within ${timeoutMs} ms (operationTimeoutMs)`,
            { store: name, operation },
          ),
        );
      });
      answer.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(wrap(operation, error));
        },
      );
    });
  };

  const gcTimer =
    backend.gc === undefined
      ? undefined
      : scheduleGc(
          name,
          definition.gcIntervalMs,
          () => store.gc?.() ?? Promise.resolve(0),
          onError,
        );

  const store: SessionStore = {
    name,
    capabilities: capabilitiesOf(backend),
    get: (key) => run("get", () => backend.get(checkKey(name, "get", key))),
    set: (key, record, options) =>
      run("set", () => {
        const k = checkKey(name, "set", key);
        const version = checkVersion(name, "set", options, 0) as number;
        return backend.set(k, checkRecord(name, "set", record), version);
      }),
    destroy: (key) => run("destroy", () => backend.destroy(checkKey(name, "destroy", key))),
    close: () => {
      if (closing === undefined) {
        if (gcTimer !== undefined) {
          gcTimer.stopped = true;
          clearTimeout(gcTimer.current);
        }
        closing = Promise.resolve()
          .then(() => backend.close?.())
          .then(
            () => undefined,
            (error: unknown) => Promise.reject(wrap("close", error)),
          );
      }
      return closing;
    },
  };
  const { touch, rename, listByUser, destroyByUser, count, clear, keys, gc } = backend;
  if (touch !== undefined) {
    store.touch = (key, expiresAt, options) =>
      run("touch", () => {
        const k = checkKey(name, "touch", key);
        if (!Number.isSafeInteger(expiresAt)) {
          throw storeArgumentError(name, "touch(): expiresAt must be a whole number of epoch ms");
        }
        return touch.call(backend, k, expiresAt, checkVersion(name, "touch", options, 1));
      });
  }
  /** A rename's answer as `SessionStore.rename` gives it; a taken key is the caller's mistake. */
  const renamed = (result: RenameResult): boolean => {
    if (result === "taken") {
      throw storeArgumentError(name, "rename(): a live record already holds the new key");
    }
    return result === "moved";
  };
  if (rename !== undefined) {
    store.rename = (oldKey, newKey, record, options) =>
      run("rename", () => {
        const from = checkKey(name, "rename", oldKey);
        const to = checkKey(name, "rename", newKey);
        if (from === to) throw storeArgumentError(name, "rename(): the two keys are the same");
        const checkedRecord = checkRecord(name, "rename", record);
        const result = rename.call(
          backend,
          from,
          to,
          checkedRecord,
          checkVersion(name, "rename", options, 1),
        );
        return isThenable(result) ? Promise.resolve(result).then(renamed) : renamed(result);
      });
  }
  if (listByUser !== undefined && destroyByUser !== undefined) {
    store.listByUser = (userId) =>
      run("listByUser", () => listByUser.call(backend, checkUserId(name, "listByUser", userId)));
    store.destroyByUser = (userId, options) =>
      run("destroyByUser", () => {
        const id = checkUserId(name, "destroyByUser", userId);
        if (options !== undefined && (options === null || typeof options !== "object")) {
          throw storeArgumentError(name, "destroyByUser(): options must be an object");
        }
        const except = options?.exceptKey;
        return destroyByUser.call(
          backend,
          id,
          except === undefined ? undefined : checkKey(name, "destroyByUser", except),
        );
      });
  }
  if (count !== undefined) store.count = () => run("count", () => count.call(backend));
  if (clear !== undefined) store.clear = () => run("clear", () => clear.call(backend));
  if (keys !== undefined) {
    store.keys = (options) =>
      run("keys", () => {
        const { cursor, limit } = checkKeysOptions(name, options);
        return keys.call(backend, cursor, limit);
      });
  }
  if (gc !== undefined) {
    store.gc = () =>
      run("gc", () => {
        const stopAt =
          timeoutMs === false ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs / 2;
        return gc.call(backend, () => closing === undefined && performance.now() < stopAt);
      });
  }
  markOwnDeadline(store, timeoutMs);
  return store;
}
