import type { PostgresStore } from "@sessionkit/store-postgres";
import { parseRedisUrl } from "@sessionkit/store-redis";
import { type Check, type CheckStatus, check } from "./check.js";
import { ExitCode } from "./cli-error.js";
import type { CommandContext } from "./context.js";
import { json, line } from "./io.js";
import { closeQuietly, firstContact, openStore } from "./open.js";
import { postgresDoctor } from "./postgres-doctor.js";
import { redisDoctor } from "./redis-doctor.js";
import { sqliteDoctor } from "./sqlite-doctor.js";
import { parseSqliteUrl, redactUrl, schemeOf } from "./url.js";

/** The JSON document of `sessionkit doctor --json`. */
export interface DoctorReport {
  /** The store URL, credentials redacted. */
  readonly store: string;
  readonly checks: readonly Check[];
  readonly summary: {
    readonly ok: number;
    readonly info: number;
    readonly warnings: number;
    readonly errors: number;
  };
  /** 0 ok, 1 warnings, 2 errors. */
  readonly exitCode: number;
}

async function redisChecks(context: CommandContext): Promise<Check[]> {
  const { url, timeoutMs } = context;
  const store = await openStore(url, timeoutMs);
  const live = await firstContact(
    store,
    url,
    timeoutMs,
    () => store.count?.() ?? Promise.resolve(0),
  );
  await closeQuietly(store);
  const { prefix } = parseRedisUrl(url);
  return [
    check("store", "ok", `the store answers: ${live} live session(s) under prefix "${prefix}"`),
    ...(await redisDoctor(url, timeoutMs)),
  ];
}

async function postgresChecks(context: CommandContext): Promise<Check[]> {
  const { url, timeoutMs } = context;
  const store = (await openStore(url, timeoutMs)) as PostgresStore;
  try {
    const checks = await postgresDoctor(
      url,
      { schema: store.schema, table: store.table },
      timeoutMs,
    );
    if (checks.some((c) => c.id === "schema" && c.status === "error")) return checks;
    try {
      const live = await store.count();
      checks.unshift(check("store", "ok", `the store answers: ${live} live session(s)`));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      checks.unshift(check("store", "error", `the store fails: ${message}`));
    }
    return checks;
  } finally {
    await closeQuietly(store);
  }
}

async function collect(context: CommandContext): Promise<Check[]> {
  const scheme = schemeOf(context.url);
  if (scheme.startsWith("redis")) return redisChecks(context);
  if (scheme === "postgres" || scheme === "postgresql") return postgresChecks(context);
  if (scheme === "sqlite") {
    // Validates the URL the way every other command would, without opening the file.
    return sqliteDoctor(parseSqliteUrl(context.url));
  }
  if (scheme === "memory") {
    return [
      check(
        "store",
        "info",
        "memory: is a store inside one process: the CLI would see an empty store of its own. Point --store at the URL of a shared store",
      ),
    ];
  }
  // Unknown schemes: let the registry produce its standard message.
  const store = await openStore(context.url, context.timeoutMs);
  await closeQuietly(store);
  return [check("store", "info", `no diagnostics for ${scheme}: stores`)];
}

const LABELS: Record<CheckStatus, string> = {
  ok: "ok",
  info: "info",
  warning: "warning",
  error: "error",
};

/** `sessionkit doctor`: prints the checks; exit code 0 ok, 1 warnings, 2 errors. */
export async function doctor(context: CommandContext): Promise<number> {
  const checks = await collect(context);
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length;
  const summary = {
    ok: count("ok"),
    info: count("info"),
    warnings: count("warning"),
    errors: count("error"),
  };
  const exitCode =
    summary.errors > 0 ? ExitCode.ERROR : summary.warnings > 0 ? ExitCode.WARNING : ExitCode.OK;
  const store = redactUrl(context.url);
  const { stdout } = context.io;
  if (context.json) {
    json(stdout, { store, checks, summary, exitCode } satisfies DoctorReport);
    return exitCode;
  }
  line(stdout, `sessionkit doctor: ${store}`);
  for (const c of checks) {
    line(stdout, `  ${LABELS[c.status].padEnd(8)} ${c.id.padEnd(13)} ${c.message}`);
    if (c.fix !== undefined) line(stdout, `  ${"".padEnd(8)} ${"".padEnd(13)} fix: ${c.fix}`);
  }
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  line(
    stdout,
    summary.errors + summary.warnings === 0
      ? "no problems found"
      : `${plural(summary.errors, "error")}, ${plural(summary.warnings, "warning")}`,
  );
  return exitCode;
}
