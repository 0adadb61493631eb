import { ExitCode } from "./cli-error.js";
import type { CommandContext } from "./context.js";
import { expiredCounter } from "./expired.js";
import { json, line } from "./io.js";
import { closeQuietly, firstContact, openStore } from "./open.js";
import { createProgress } from "./progress.js";
import { redactUrl } from "./url.js";

/** The JSON document of `sessionkit gc --json`. */
export interface GcReport {
  /** The store URL, credentials redacted. */
  readonly store: string;
  /** False for stores that expire records themselves (Redis): nothing was done. */
  readonly supported: boolean;
  /** Expired rows found before pruning (`null` when the store cannot tell). */
  readonly expired: number | null;
  /** Rows removed. */
  readonly removed: number;
}

/** How often the progress display re-counts the remaining expired rows, in ms. */
const POLL_MS = 100;

/**
 * `sessionkit gc`: prunes expired sessions through the store's `gc()`, pass
 * after pass until one finds nothing. The store prunes in batches; progress is the drop in expired rows, re-counted
 * on a second connection while it runs (bar on a terminal, lines otherwise, on stderr).
 */
export async function gc(context: CommandContext): Promise<number> {
  const { url, timeoutMs, io } = context;
  const store = await openStore(url, timeoutMs);
  const shown = redactUrl(url);
  try {
    if (!store.capabilities.gc || store.gc === undefined) {
      await firstContact(store, url, timeoutMs, async () => store.get("0".repeat(64)));
      const report: GcReport = { store: shown, supported: false, expired: null, removed: 0 };
      if (context.json) json(io.stdout, report);
      else line(io.stdout, `the ${store.name} store expires sessions itself: gc has nothing to do`);
      return ExitCode.OK;
    }
    const prune = store.gc.bind(store);
    const counter = await expiredCounter(url, store, timeoutMs);
    try {
      const expired =
        counter === undefined
          ? null
          : await firstContact(store, url, timeoutMs, () => counter.count());
      const progress = expired === null ? undefined : createProgress(io.stderr, "gc", expired);
      let polling = false;
      const timer =
        progress === undefined || counter === undefined
          ? undefined
          : setInterval(() => {
              if (polling) return;
              polling = true;
              counter
                .count()
                .then((remaining) => progress.update(Math.max(0, (expired ?? 0) - remaining)))
                .catch(() => {})
                .finally(() => {
                  polling = false;
                });
            }, POLL_MS);
      // A store's gc() stops within its deadline and reports what it removed so
      // far: call it until it finds nothing more, or has removed what was
      // expired at the start (sessions keep expiring while it runs).
      let removed = 0;
      try {
        for (;;) {
          const pass = await prune();
          removed += pass;
          if (pass === 0 || (expired !== null && removed >= expired)) break;
        }
      } finally {
        clearInterval(timer);
      }
      progress?.finish(removed);
      const report: GcReport = { store: shown, supported: true, expired, removed };
      if (context.json) json(io.stdout, report);
      else line(io.stdout, `removed ${removed} expired session(s)`);
      return ExitCode.OK;
    } finally {
      await counter?.close();
    }
  } finally {
    await closeQuietly(store);
  }
}
