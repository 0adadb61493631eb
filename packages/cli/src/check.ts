/** Outcome of one `doctor` check: `info` never changes the exit code. */
export type CheckStatus = "ok" | "info" | "warning" | "error";

/** One finding of `sessionkit doctor`. */
export interface Check {
  /** Stable identifier of the check, such as `"eviction"` or `"clock"`. */
  readonly id: string;
  readonly status: CheckStatus;
  /** One sentence saying what was found. Never holds a credential. */
  readonly message: string;
  /** What to do about a warning or error, when there is a clear fix. */
  readonly fix?: string;
}

/** Builds a {@link Check}. */
export function check(id: string, status: CheckStatus, message: string, fix?: string): Check {
  return fix === undefined ? { id, status, message } : { id, status, message, fix };
}

/**
 * The schema check of a SQL store's table: `pending` is the status of a
 * table older than this CLI's store package (with `note` appended to the
 * message); a newer one is an error, since this CLI cannot judge it.
 */
export function schemaCheck(
  table: string,
  found: number,
  expected: number,
  pending: CheckStatus,
  note = "",
): Check {
  if (found < expected) {
    return check(
      "schema",
      pending,
      found === 0
        ? `table ${table} is not migrated (schema version 0, expected ${expected}): a pending migration${note}`
        : `table ${table} is at schema version ${found}, expected ${expected}: a pending migration${note}`,
      "run sessionkit migrate --store <url> (sessionkit migrate --dry-run prints the SQL)",
    );
  }
  if (found > expected) {
    return check(
      "schema",
      "error",
      `table ${table} is at schema version ${found}, newer than this CLI knows (${expected})`,
      "upgrade @sessionkit/cli",
    );
  }
  return check("schema", "ok", `table ${table} at schema version ${found}`);
}

/** Clock skew above which `doctor` warns, in ms. */
export const SKEW_WARNING_MS = 1_000;
/** Clock skew above which `doctor` reports an error, in ms. */
export const SKEW_ERROR_MS = 30_000;

/**
 * The clock check from one round trip: the server's time against the midpoint
 * of the local send and receive times (all epoch ms). The uncertainty is half
 * the round trip, and only skew beyond it counts.
 */
export function clockCheck(
  serverMs: number,
  sentAt: number,
  receivedAt: number,
  serverName: string,
): Check {
  const uncertainty = Math.max(0, Math.ceil((receivedAt - sentAt) / 2));
  const skew = Math.round(serverMs - (sentAt + receivedAt) / 2);
  const beyond = Math.max(0, Math.abs(skew) - uncertainty);
  const direction = skew >= 0 ? "ahead of" : "behind";
  const message = `the ${serverName} clock is ${Math.abs(skew)} ms ${direction} this machine's (±${uncertainty} ms)`;
  const fix =
    "sync the clocks with NTP (chrony or systemd-timesyncd) on this machine and on the server: sessionkit compares expiry times taken on the application's clock";
  if (beyond >= SKEW_ERROR_MS) return check("clock", "error", message, fix);
  if (beyond >= SKEW_WARNING_MS) return check("clock", "warning", message, fix);
  return check("clock", "ok", message);
}
