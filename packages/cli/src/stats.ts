import { createHmac, randomBytes } from "node:crypto";
import type { SessionStore } from "@sessionkit/core";
import { iterateKeys } from "@sessionkit/core/store";
import { ExitCode } from "./cli-error.js";
import type { CommandContext } from "./context.js";
import { expiredCounter } from "./expired.js";
import { json, line } from "./io.js";
import { closeQuietly, firstContact, openStore } from "./open.js";
import { redactUrl } from "./url.js";

/** Options of `sessionkit stats`. */
export interface StatsOptions {
  /** How many users to list, by session count. `0` skips the per-user scan. @default 10 */
  readonly top: number;
  /** Show user ids instead of per-run hashes. @default false */
  readonly showUsers: boolean;
}

/** One user in {@link StatsReport.top}. */
export interface UserSessions {
  /** The user id with `--show-users`; otherwise `~` and a hash keyed per run (not comparable across runs). */
  readonly user: string;
  readonly sessions: number;
}

/** The JSON document of `sessionkit stats --json`. */
export interface StatsReport {
  /** The store URL, credentials redacted. */
  readonly store: string;
  /** Live sessions (`count()`), or `null` when the store cannot count. */
  readonly live: number | null;
  /** Rows past expiry that gc has not pruned yet; `null` where the store expires records itself. */
  readonly expired: number | null;
  /** Sessions read by the per-user scan (`null` when skipped). */
  readonly scanned: number | null;
  /** Distinct signed-in users among them. */
  readonly users: number | null;
  /** Sessions without a user. */
  readonly anonymous: number | null;
  /** Users with the most sessions, most first (ties by id). */
  readonly top: readonly UserSessions[];
  /** Whether `top` shows real user ids. */
  readonly usersShown: boolean;
}

/** Reads at most this many records at once during the per-user scan. */
const SCAN_CONCURRENCY = 16;

interface Scan {
  scanned: number;
  anonymous: number;
  perUser: Map<string, number>;
}

async function scanUsers(store: SessionStore): Promise<Scan> {
  const scan: Scan = { scanned: 0, anonymous: 0, perUser: new Map() };
  const batch: string[] = [];
  const flush = async (): Promise<void> => {
    const records = await Promise.all(batch.map((key) => store.get(key)));
    batch.length = 0;
    for (const record of records) {
      // Expired or destroyed since the key was listed.
      if (record === null) continue;
      scan.scanned++;
      if (record.userId === undefined) scan.anonymous++;
      else scan.perUser.set(record.userId, (scan.perUser.get(record.userId) ?? 0) + 1);
    }
  };
  for await (const key of iterateKeys(store, { pageSize: 500 })) {
    batch.push(key);
    if (batch.length >= SCAN_CONCURRENCY) await flush();
  }
  await flush();
  return scan;
}

/** `sessionkit stats`: live sessions, expired rows not yet pruned, sessions per user. */
export async function stats(context: CommandContext, options: StatsOptions): Promise<number> {
  const { url, timeoutMs, io } = context;
  const store = await openStore(url, timeoutMs);
  try {
    const live = store.capabilities.count
      ? await firstContact(store, url, timeoutMs, () => store.count?.() ?? Promise.resolve(0))
      : null;
    const counter = await expiredCounter(url, store, timeoutMs);
    let expired: number | null = null;
    if (counter !== undefined) {
      try {
        expired = await counter.count();
      } finally {
        await counter.close();
      }
    }
    const scan = options.top > 0 && store.capabilities.keys ? await scanUsers(store) : undefined;
    // Keyed per run: a label tells users apart within one report but cannot
    // be matched against a list of candidate ids.
    const key = randomBytes(32);
    const label = (userId: string) =>
      options.showUsers
        ? userId
        : `~${createHmac("sha256", key).update(userId).digest("hex").slice(0, 10)}`;
    const top = [...(scan?.perUser ?? [])]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, options.top)
      .map(([userId, sessions]) => ({ user: label(userId), sessions }));
    const report: StatsReport = {
      store: redactUrl(url),
      live,
      expired,
      scanned: scan?.scanned ?? null,
      users: scan?.perUser.size ?? null,
      anonymous: scan?.anonymous ?? null,
      top,
      usersShown: options.showUsers,
    };
    if (context.json) {
      json(io.stdout, report);
      return ExitCode.OK;
    }
    const show = (value: number | null, absent: string) =>
      value === null ? absent : String(value);
    line(io.stdout, `sessionkit stats: ${report.store}`);
    line(io.stdout, `  live sessions            ${show(live, "n/a (the store cannot count)")}`);
    line(
      io.stdout,
      `  expired, not yet pruned  ${show(expired, "n/a (the store expires sessions itself)")}`,
    );
    if (scan === undefined) {
      line(io.stdout, "  per-user scan            skipped");
      return ExitCode.OK;
    }
    line(io.stdout, `  signed-in users          ${report.users}`);
    line(io.stdout, `  anonymous sessions       ${report.anonymous}`);
    if (top.length > 0) {
      line(
        io.stdout,
        `  top ${top.length} user(s) by sessions${options.showUsers ? "" : " (ids hidden: --show-users shows them)"}`,
      );
      for (const entry of top)
        line(io.stdout, `    ${String(entry.sessions).padStart(8)}  ${entry.user}`);
    }
    return ExitCode.OK;
  } finally {
    await closeQuietly(store);
  }
}
