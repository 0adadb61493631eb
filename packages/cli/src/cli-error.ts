import { isSessionError } from "@sessionkit/core";
import { redactSecrets } from "@sessionkit/core/store";

/** Exit codes of the `sessionkit` command. */
export const ExitCode = {
  /** Done; `doctor` found nothing to warn about. */
  OK: 0,
  /** `doctor` found warnings only; `revoke` was declined at the prompt. */
  WARNING: 1,
  /** An error: a bad argument or URL, an unreachable store, a failed operation, `doctor` errors. */
  ERROR: 2,
} as const;

/**
 * A failure the CLI reports as one line on stderr (never a stack trace).
 * Its message never holds a credential.
 */
export class CliError extends Error {
  override readonly name = "CliError";
  /** Stable code for `--json` output, such as `"USAGE"` or a store error code. */
  readonly code: string;
  /** The process exit code. */
  readonly exitCode: number;

  constructor(code: string, message: string, exitCode: number = ExitCode.ERROR) {
    super(redactSecrets(message));
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A usage error (bad or missing arguments). */
export function usageError(message: string): CliError {
  return new CliError("USAGE", message);
}

/** Turns anything thrown into a {@link CliError}, keeping a store error's code. */
export function toCliError(error: unknown, context?: string): CliError {
  if (error instanceof CliError) return error;
  const prefix = context === undefined ? "" : `${context}: `;
  if (isSessionError(error)) return new CliError(error.code, `${prefix}${error.message}`);
  if (error instanceof TypeError)
    return new CliError("INVALID_ARGUMENT", `${prefix}${error.message}`);
  const message = error instanceof Error ? error.message : String(error);
  return new CliError("ERROR", `${prefix}${message}`);
}

/** Rejects with a `STORE_TIMEOUT` {@link CliError} when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new CliError("STORE_TIMEOUT", `${what}: no answer within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
