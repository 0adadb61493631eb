import { ErrorCode, isSessionError, SessionError } from "./errors.js";
import {
  assertStorableRecord,
  isStorableText,
  isStoreKey,
  MAX_USER_ID_LENGTH,
  type SessionRecord,
} from "./store.js";

/**
 * The argument checks every store built with `defineStore` shares, so each
 * call gets one answer on every store: a malformed argument is a `TypeError`,
 * text no store keeps exactly is `INVALID_DATA`.
 */

/** Largest `limit` of {@link SessionStore.keys}, on every store. */
export const MAX_KEYS_PAGE = 1000;
/** `limit` of {@link SessionStore.keys} when none is given. */
export const DEFAULT_KEYS_PAGE = 500;
const MAX_CURSOR_LENGTH = 1024;

const ARGUMENT = Symbol.for("sessionkit.storeArgumentError");

/**
 * A `TypeError` for an argument a backend refuses after core's own checks (a
 * cursor it never issued, say). {@link defineStore} passes it to the caller
 * unchanged instead of classifying it as a store failure.
 */
export function storeArgumentError(storeName: string, message: string): TypeError {
  const error = new TypeError(`${storeName}: ${message}`);
  Object.defineProperty(error, ARGUMENT, { value: true });
  return error;
}

export function isArgumentError(error: unknown): boolean {
  return error instanceof TypeError && (error as { [ARGUMENT]?: boolean })[ARGUMENT] === true;
}

/** The default {@link StoreErrorHandler}: a process warning, which Node prints once per code path. */
export function checkUserId(name: string, operation: string, userId: unknown): string {
  if (typeof userId !== "string" || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH) {
    throw storeArgumentError(
      name,
      `${operation}(): userId must be a string of 1 to ${MAX_USER_ID_LENGTH} characters`,
    );
  }
  if (!isStorableText(userId)) {
    throw new SessionError(
      ErrorCode.INVALID_DATA,
      `${name}: ${operation}(): the user id holds a NUL character or a lone surrogate, which no store keeps`,
      { store: name, operation },
    );
  }
  return userId;
}

export function checkKey(name: string, operation: string, key: unknown): string {
  if (!isStoreKey(key)) {
    throw storeArgumentError(name, `${operation}(): a store key is 64 lowercase hex characters`);
  }
  return key;
}

export function checkVersion(
  name: string,
  operation: string,
  options: unknown,
  min: 0 | 1,
): number | undefined {
  if (options === undefined || options === null) {
    if (min === 0) throw storeArgumentError(name, `${operation}(): options.ifVersion is required`);
    return undefined;
  }
  if (typeof options !== "object") {
    throw storeArgumentError(name, `${operation}(): options must be an object`);
  }
  const { ifVersion } = options as { ifVersion?: unknown };
  if (ifVersion === undefined && min === 1) return undefined;
  if (!Number.isSafeInteger(ifVersion) || (ifVersion as number) < min) {
    throw storeArgumentError(
      name,
      `${operation}(): options.ifVersion must be a whole number of at least ${min}`,
    );
  }
  return ifVersion as number;
}

export function checkRecord(name: string, operation: string, record: unknown): SessionRecord {
  try {
    assertStorableRecord(name, record as SessionRecord);
  } catch (error) {
    if (error instanceof TypeError) {
      throw storeArgumentError(name, `${operation}(): ${error.message.replace(`${name}: `, "")}`);
    }
    if (isSessionError(error)) {
      throw new SessionError(error.code, error.message, { store: name, operation });
    }
    throw error;
  }
  return record as SessionRecord;
}

export function checkKeysOptions(
  name: string,
  options: unknown,
): { readonly cursor: string | null; readonly limit: number } {
  if (options === undefined || options === null) return { cursor: null, limit: DEFAULT_KEYS_PAGE };
  if (typeof options !== "object")
    throw storeArgumentError(name, "keys(): options must be an object");
  const { cursor = null, limit = DEFAULT_KEYS_PAGE } = options as {
    cursor?: unknown;
    limit?: unknown;
  };
  if (
    cursor !== null &&
    (typeof cursor !== "string" || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH)
  ) {
    throw storeArgumentError(name, "keys(): cursor must be null or a cursor this store returned");
  }
  if (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_KEYS_PAGE) {
    throw storeArgumentError(
      name,
      `keys(): limit must be a whole number from 1 to ${MAX_KEYS_PAGE}`,
    );
  }
  return { cursor: cursor as string | null, limit: limit as number };
}
