import { randomBytes } from "node:crypto";
import { jsonCodec, type SessionCodec } from "./codec.js";
import { type CookieAttributes, serializeCookie, validateCookie } from "./cookie.js";
import { Deadlines, needsDeadline } from "./deadlines.js";
import { ErrorCode, SessionError } from "./errors.js";
import {
  createHandleHasher,
  createIdHasher,
  createTokenSigner,
  generateSessionId,
  prepareSecrets,
} from "./signing.js";
import { isStandardSchema, type StandardSchemaV1 } from "./standard-schema.js";
import { isSessionStore, type SessionStore } from "./store.js";
import type { SessionEvent, SessionInstrumentation, SessionManagerOptions } from "./types.js";

/** Options of a manager, resolved and checked once at start-up. */
export interface Config {
  readonly store: SessionStore;
  readonly cookieName: string;
  readonly attributes: CookieAttributes;
  readonly maxAgeMs: number | undefined;
  readonly headerName: string | undefined;
  readonly queryName: string | undefined;
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
  readonly touchAfterMs: number;
  readonly codec: SessionCodec;
  readonly maxPayloadBytes: number;
  readonly conflict: "merge" | "error";
  readonly now: () => number;
  readonly storeTimeoutMs: number;
  /**
   * The deadlines of this manager's store calls, all `storeTimeoutMs` long;
   * undefined when the store bounds its calls itself, within `storeTimeoutMs`.
   */
  readonly deadlines: Deadlines | undefined;
  readonly instrumentation: SessionInstrumentation | undefined;
  readonly schema: StandardSchemaV1<unknown, object> | undefined;
  readonly version: number;
  readonly upgrade: SessionManagerOptions["upgrade"];
  readonly onInvalid: "reset" | "error";
  /** Whether writes are checked against `schema` (never without one). */
  readonly checkWrites: boolean;
  /** Longest per-session cookie lifetime: `absoluteTimeoutMs`, at most 400 days. */
  readonly maxPersistMs: number;
  readonly signer: ReturnType<typeof createTokenSigner>;
  readonly hashId: (id: string) => string;
  /** The opaque handle of a store key in `listSessions()`: keyed, so the key never reaches a page. */
  readonly handleOf: (key: string) => string;
  readonly emit: (type: SessionEvent["type"], id?: string, code?: SessionEvent["code"]) => void;
}

const MAX_COOKIE_AGE_MS = 400 * 24 * 3600 * 1000;
/** setTimeout's largest delay; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const CANONICAL_HEADER = /^[A-Z0-9][a-z0-9]*(?:-[A-Z0-9][a-z0-9]*)*$/;
const QUERY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function invalid(message: string): never {
  throw new SessionError(ErrorCode.INVALID_CONFIG, message);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    invalid(`${name} must be a positive integer (ms)`);
  return value;
}

/** Checks the options once, at start-up; every mistake is `INVALID_CONFIG`. */
export function resolveConfig(options: SessionManagerOptions): Config {
  if (options === null || typeof options !== "object")
    invalid("createSessionManager(options): options required");
  const { store } = options;
  if (!isSessionStore(store)) {
    invalid("store must implement the SessionStore contract (get, set, destroy, capabilities)");
  }
  const secrets = prepareSecrets(options.secrets);

  const cookie = options.cookie ?? {};
  const secure = cookie.secure ?? true;
  if (!secure && process.env.NODE_ENV === "production") {
    invalid("cookie.secure: false is refused when NODE_ENV is production");
  }
  const path = cookie.path ?? "/";
  const domain = cookie.domain;
  const hostPrefixOk = secure && path === "/" && domain === undefined;
  const cookieName = cookie.name ?? (hostPrefixOk ? "__Host-sid" : "sid");
  const attributes: CookieAttributes = {
    path,
    domain,
    secure,
    httpOnly: cookie.httpOnly ?? true,
    sameSite: cookie.sameSite ?? "lax",
    partitioned: cookie.partitioned ?? false,
  };
  validateCookie(cookieName, attributes);

  const idleTimeoutMs = positiveInteger("idleTimeoutMs", options.idleTimeoutMs ?? 30 * 60_000);
  const absoluteTimeoutMs = positiveInteger(
    "absoluteTimeoutMs",
    options.absoluteTimeoutMs ?? 12 * 3_600_000,
  );
  const touchAfterMs = options.touchAfterMs ?? Math.min(60_000, Math.floor(idleTimeoutMs / 2));
  if (!Number.isSafeInteger(touchAfterMs) || touchAfterMs < 0 || touchAfterMs >= idleTimeoutMs) {
    invalid("touchAfterMs must be an integer from 0 to below idleTimeoutMs");
  }
  if (absoluteTimeoutMs < idleTimeoutMs)
    invalid("absoluteTimeoutMs must be at least idleTimeoutMs");
  let maxAgeMs: number | undefined;
  if (cookie.maxAgeMs !== undefined) {
    maxAgeMs = positiveInteger("cookie.maxAgeMs", cookie.maxAgeMs);
    if (maxAgeMs > absoluteTimeoutMs) invalid("cookie.maxAgeMs must not exceed absoluteTimeoutMs");
    if (maxAgeMs > MAX_COOKIE_AGE_MS) invalid("cookie.maxAgeMs must not exceed 400 days");
  }

  const headerName = options.idFrom?.header;
  if (headerName !== undefined && !CANONICAL_HEADER.test(headerName)) {
    invalid(
      `idFrom.header must be a canonical header name such as "X-Session-Id" (got ${JSON.stringify(headerName)})`,
    );
  }
  const queryName = options.idFrom?.query;
  if (queryName !== undefined && !QUERY_NAME.test(queryName)) {
    invalid("idFrom.query must be 1 to 64 letters, digits, '_', '.' or '-'");
  }
  const maxPayloadBytes = positiveInteger("maxPayloadBytes", options.maxPayloadBytes ?? 64 * 1024);
  const storeTimeoutMs = positiveInteger("storeTimeoutMs", options.storeTimeoutMs ?? 3_000);
  if (storeTimeoutMs > MAX_TIMER_MS) invalid(`storeTimeoutMs must not exceed ${MAX_TIMER_MS} ms`);
  const { instrumentation } = options;
  if (instrumentation !== undefined && typeof instrumentation?.wrap !== "function") {
    invalid("instrumentation must have a wrap(operation, run) method");
  }
  if (instrumentation?.recording !== undefined && typeof instrumentation.recording !== "function") {
    invalid("instrumentation.recording must be a function, when given");
  }
  const { schema, upgrade } = options;
  if (schema !== undefined && !isStandardSchema(schema)) {
    invalid("schema must be a Standard Schema (zod 4, valibot 1, arktype 2, …)");
  }
  const version = positiveInteger("version", options.version ?? 1);
  if (upgrade !== undefined && typeof upgrade !== "function") {
    invalid("upgrade must be a function (data, fromVersion) => data");
  }
  const checkWrites = options.checkWrites ?? process.env.NODE_ENV !== "production";
  if (typeof checkWrites !== "boolean") invalid("checkWrites must be true or false");
  const onInvalid = options.onInvalid ?? "reset";
  if (onInvalid !== "reset" && onInvalid !== "error")
    invalid('onInvalid must be "reset" or "error"');
  const conflict = options.conflict ?? "merge";
  if (conflict !== "merge" && conflict !== "error") invalid('conflict must be "merge" or "error"');
  const codec = options.codec ?? jsonCodec;
  if (typeof codec?.encode !== "function" || typeof codec.decode !== "function") {
    invalid("codec must have encode() and decode()");
  }

  // The largest cookie we will ever send must fit browsers' limit.
  const signer = createTokenSigner(cookieName, secrets);
  serializeCookie(
    cookieName,
    signer.sign(generateSessionId()),
    attributes,
    Math.ceil(MAX_COOKIE_AGE_MS / 1000),
  );

  const salt =
    options.eventSalt === undefined
      ? randomBytes(32)
      : Buffer.from(options.eventSalt as Uint8Array | string);
  const hashId = createIdHasher(salt);
  // Keyed by the first signing secret (under its own context), so handles are
  // the same in every process of the app and say nothing about the store key.
  const handleOf = createHandleHasher(secrets[0] as Buffer);
  const now = options.now ?? Date.now;
  const listener = options.onEvent;
  const emit: Config["emit"] = (type, id, code) => {
    if (listener === undefined) return;
    try {
      listener({
        type,
        at: now(),
        ...(id === undefined ? {} : { sessionHash: hashId(id) }),
        ...(code === undefined ? {} : { code }),
      });
    } catch {
      // An observability hook must never break a request.
    }
  };

  return {
    store,
    cookieName,
    attributes,
    maxAgeMs,
    headerName,
    queryName,
    idleTimeoutMs,
    absoluteTimeoutMs,
    touchAfterMs,
    codec,
    maxPayloadBytes,
    conflict,
    now,
    storeTimeoutMs,
    deadlines: needsDeadline(store, storeTimeoutMs) ? new Deadlines(storeTimeoutMs) : undefined,
    instrumentation,
    schema,
    version,
    upgrade,
    onInvalid,
    checkWrites: schema !== undefined && checkWrites,
    maxPersistMs: Math.min(absoluteTimeoutMs, MAX_COOKIE_AGE_MS),
    signer,
    hashId,
    handleOf,
    emit,
  };
}

/**
 * The manager's instrumentation if it records anything now, else `undefined`:
 * each load, commit and store call asks once, and runs unwrapped without it.
 */
export function activeInstrumentation(config: Config): SessionInstrumentation | undefined {
  const { instrumentation } = config;
  return instrumentation === undefined || instrumentation.recording?.() === false
    ? undefined
    : instrumentation;
}
