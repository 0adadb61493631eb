import type { StoreErrorHandler } from "./define-store.js";
import { ErrorCode, isSessionError, SessionError } from "./errors.js";

/** The gc timer of one store: re-armed after each pass, so passes never overlap. */
export interface GcTimer {
  current: ReturnType<typeof setTimeout> | undefined;
  stopped: boolean;
}

/**
 * Runs `pass` every `gcIntervalMs` (±10%), re-armed only after a pass settles,
 * on a timer that never keeps the process alive. Failures go to `onError`.
 * `undefined` or `false`: no timer.
 */
export function scheduleGc(
  name: string,
  gcIntervalMs: number | false | undefined,
  pass: () => Promise<number>,
  onError: StoreErrorHandler,
): GcTimer | undefined {
  if (gcIntervalMs === undefined || gcIntervalMs === false) return undefined;
  if (!(Number.isSafeInteger(gcIntervalMs) && gcIntervalMs > 0)) {
    throw new SessionError(
      ErrorCode.INVALID_CONFIG,
      `${name}: gcIntervalMs must be a positive whole number of ms, or false`,
    );
  }
  const timer: GcTimer = { current: undefined, stopped: false };
  const arm = (): void => {
    if (timer.stopped) return;
    // ±10% jitter, so many processes started together do not prune in step.
    const delay = Math.round(gcIntervalMs * (0.9 + Math.random() * 0.2));
    timer.current = setTimeout(() => {
      pass().then(arm, (error: unknown) => {
        if (!timer.stopped && isSessionError(error)) onError(error, { operation: "gc" });
        arm();
      });
    }, delay);
    timer.current.unref();
  };
  arm();
  return timer;
}
