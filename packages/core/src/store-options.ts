import { type StoreErrorHandler, warnStoreError } from "./define-store.js";
import { ErrorCode, redactSecrets, SessionError } from "./errors.js";

/**
 * The options every store of sessionkit takes, under the same names and with
 * the same checks. A store's own options type extends this.
 */
export interface CommonStoreOptions {
  /**
   * Longest one store call may take before it rejects with `STORE_TIMEOUT`.
   * Backends also pass it to their driver (statement, command or busy timeout).
   */
  readonly operationTimeoutMs?: number | undefined;
  /** Failures of background work (scheduled gc, corrupt records found). Default: `process.emitWarning`. */
  readonly onError?: StoreErrorHandler | undefined;
  /** The clock, epoch ms, called on every operation that needs the time. @default Date.now */
  readonly now?: (() => number) | undefined;
}

/** {@link CommonStoreOptions} of a store without native expiry. */
export interface GcStoreOptions extends CommonStoreOptions {
  /**
   * How often expired records are pruned, in ms, on a timer that never keeps
   * the process alive; `false` for none (call `gc()` yourself, or run
   * `sessionkit gc` from cron). Expired records are never returned either way.
   */
  readonly gcIntervalMs?: number | false | undefined;
}

/** What a SQL store does with its schema when it opens. */
export type MigrateMode = "auto" | "verify" | "off";

/** {@link CommonStoreOptions} resolved: every value present and checked. */
export interface ResolvedStoreOptions {
  readonly operationTimeoutMs: number;
  readonly onError: StoreErrorHandler;
  readonly now: () => number;
}

/** A configuration error naming the store and option: `INVALID_CONFIG`. */
export function storeConfigError(storeName: string, message: string): SessionError {
  return new SessionError(ErrorCode.INVALID_CONFIG, `${storeName}: ${message}`, {
    store: storeName,
  });
}

/** `value` if it is a whole number from `min` up, else `INVALID_CONFIG` naming `option`. */
export function wholeNumberOption(
  storeName: string,
  option: string,
  value: unknown,
  min = 1,
): number {
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    throw storeConfigError(
      storeName,
      `${option} must be a whole number of at least ${min} (got ${describe(value)})`,
    );
  }
  return value as number;
}

/** The value of `gcIntervalMs`: a whole number of ms, or `false`. */
export function gcIntervalOption(
  storeName: string,
  value: unknown,
  fallback: number | false,
): number | false {
  if (value === undefined) return fallback;
  if (value === false) return false;
  return wholeNumberOption(storeName, "gcIntervalMs", value);
}

/** The value of `migrate`. */
export function migrateOption(storeName: string, value: unknown): MigrateMode {
  if (value === undefined) return "auto";
  if (value === "auto" || value === "verify" || value === "off") return value;
  throw storeConfigError(
    storeName,
    `migrate must be "auto", "verify" or "off" (got ${describe(value)})`,
  );
}

/**
 * Checks and fills the {@link CommonStoreOptions}. `options` must be an object
 * (or undefined); anything else is `INVALID_CONFIG`.
 */
export function resolveStoreOptions(
  storeName: string,
  options: CommonStoreOptions | undefined,
  defaults: { readonly operationTimeoutMs: number },
): ResolvedStoreOptions {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw storeConfigError(storeName, "options must be an object");
  }
  const operationTimeoutMs = wholeNumberOption(
    storeName,
    "operationTimeoutMs",
    options?.operationTimeoutMs ?? defaults.operationTimeoutMs,
  );
  const onError = options?.onError ?? warnStoreError;
  if (typeof onError !== "function") {
    throw storeConfigError(storeName, "onError must be a function");
  }
  const now = options?.now ?? Date.now;
  if (typeof now !== "function") throw storeConfigError(storeName, "now must be a function");
  return { operationTimeoutMs, onError, now };
}

/**
 * Refuses an option name the store does not know, so a misspelt or renamed
 * option is `INVALID_CONFIG` instead of silently ignored. `options` that is
 * not an object is `INVALID_CONFIG` too.
 */
export function checkOptionNames(
  storeName: string,
  options: object | undefined,
  known: readonly string[],
): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object") {
    throw storeConfigError(storeName, "options must be an object");
  }
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw storeConfigError(
        storeName,
        `unknown option ${JSON.stringify(name)} (known: ${known.join(", ")})`,
      );
    }
  }
}

/**
 * The options with those a store URL sets merged in. An option set both in
 * the URL and in code is `INVALID_CONFIG`: neither silently wins.
 */
export function mergeUrlOptions<Options extends object>(
  storeName: string,
  options: Options,
  fromUrl: Partial<Options>,
): Options {
  for (const name of Object.keys(fromUrl)) {
    if ((options as Record<string, unknown>)[name] !== undefined) {
      throw storeConfigError(storeName, `${name} is set both in the URL and as an option`);
    }
  }
  return { ...options, ...fromUrl };
}

/** How one query parameter of a store URL is read. */
export type UrlParameterKind = "integer" | "boolean" | "string" | "duration";

/**
 * Reads the query parameters of a store URL against the ones the store knows,
 * so every store reads its URL alike: an unknown parameter, a repeated one or
 * a malformed value is `INVALID_CONFIG` (the message never repeats the URL,
 * which may hold a password). `"integer"` and `"duration"` are whole numbers,
 * `"boolean"` is `true` or `false`; `"duration"` may also be `false` (off).
 *
 * @example
 * ```ts
 * const params = readUrlParameters("sqlite", url, { gcIntervalMs: "duration", table: "string" });
 * ```
 */
export function readUrlParameters(
  storeName: string,
  url: string,
  known: Readonly<Record<string, UrlParameterKind>>,
): Record<string, string | number | boolean> {
  const at = url.indexOf("?");
  const out: Record<string, string | number | boolean> = {};
  if (at < 0) return out;
  const query = url.slice(at + 1).replace(/#.*$/s, "");
  for (const [name, raw] of new URLSearchParams(query)) {
    const kind = Object.hasOwn(known, name) ? known[name] : undefined;
    if (kind === undefined) {
      const names = Object.keys(known);
      throw storeConfigError(
        storeName,
        `unknown URL parameter ${JSON.stringify(redactSecrets(name))}` +
          (names.length === 0 ? " (this store takes none)" : ` (known: ${names.join(", ")})`),
      );
    }
    if (Object.hasOwn(out, name)) {
      throw storeConfigError(storeName, `URL parameter ${name} is given twice`);
    }
    out[name] = urlValue(storeName, name, raw, kind);
  }
  return out;
}

function urlValue(
  storeName: string,
  name: string,
  raw: string,
  kind: UrlParameterKind,
): string | number | boolean {
  if (kind === "string") return raw;
  if (kind === "boolean" || (kind === "duration" && raw === "false")) {
    if (raw === "true" && kind === "boolean") return true;
    if (raw === "false") return false;
    throw storeConfigError(storeName, `URL parameter ${name} must be true or false`);
  }
  if (!/^\d{1,15}$/.test(raw)) {
    throw storeConfigError(
      storeName,
      `URL parameter ${name} must be a whole number${kind === "duration" ? " of ms, or false" : ""}`,
    );
  }
  return Number(raw);
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  if (typeof value === "function") return "a function";
  return String(value);
}
