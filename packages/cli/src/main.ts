import { parseArgs } from "node:util";
import { CliError, ExitCode, toCliError, usageError } from "./cli-error.js";
import type { CommandContext } from "./context.js";
import { doctor } from "./doctor.js";
import { gc } from "./gc.js";
import { type CliIo, json, line, processIo } from "./io.js";
import { migrate } from "./migrate.js";
import { revoke } from "./revoke.js";
import { stats } from "./stats.js";

/** Bound on connecting and on each diagnostic query, in ms, unless `--timeout` says otherwise. */
export const DEFAULT_TIMEOUT_MS = 5_000;

const USAGE = `Usage: sessionkit <command> [options]

Commands:
  doctor                 check the store's server and configuration (exit 0 ok, 1 warnings, 2 errors)
  stats                  live sessions, expired rows not yet pruned, sessions per user
  revoke --user ID       revoke every session of one user
  revoke --all           revoke every session (logs everyone out)
  gc                     delete expired sessions (SQL stores)
  migrate [--dry-run]    create or upgrade the schema (SQL stores); --dry-run prints the SQL

Options:
  --store URL            store URL (default: $SESSION_STORE_URL), e.g. redis://host:6379,
                         redis+sentinel://host:26379/name, redis+cluster://h1:7000,h2:7001,
                         postgres://user@host/db, sqlite:./sessions.db, memory:
  --json                 print one JSON document on stdout instead of text
  --timeout MS           bound on connecting and on each diagnostic query (default ${DEFAULT_TIMEOUT_MS})
  --yes, -y              revoke without asking (required when stdin is not a terminal)
  --top N                stats: how many users to list (default 10; 0 skips the per-user scan)
  --show-users           stats: show user ids instead of per-run hashes
  --help, -h             show this help
`;

const COMMANDS = new Set(["doctor", "stats", "revoke", "gc", "migrate"]);

function positiveInteger(
  text: string | undefined,
  name: string,
  fallback: number,
  min = 1,
): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text) || Number(text) < min) {
    throw usageError(`${name} must be an integer of at least ${min}`);
  }
  return Number(text);
}

/**
 * Runs the `sessionkit` command with `argv` (without `node` and the script)
 * and resolves to the exit code. Never throws: failures become one line on
 * stderr (and `{"error": …}` on stdout with `--json`), with no stack trace
 * and no credential.
 *
 * @example
 * ```ts
 * import { runCli } from "@sessionkit/cli";
 *
 * process.exitCode = await runCli(["doctor", "--store", "redis://127.0.0.1:6379"]);
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let wantsJson = argv.includes("--json");
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        store: { type: "string" },
        json: { type: "boolean" },
        timeout: { type: "string" },
        yes: { type: "boolean", short: "y" },
        user: { type: "string" },
        all: { type: "boolean" },
        top: { type: "string" },
        "show-users": { type: "boolean" },
        "dry-run": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    wantsJson = values.json === true;
    if (values.help === true || positionals.length === 0) {
      io.stdout.write(USAGE);
      return positionals.length === 0 && values.help !== true ? ExitCode.ERROR : ExitCode.OK;
    }
    const [command, ...extra] = positionals;
    if (command === undefined || !COMMANDS.has(command)) {
      throw usageError(
        `unknown command "${String(command).slice(0, 40)}" (sessionkit --help lists them)`,
      );
    }
    if (extra.length > 0)
      throw usageError(`unexpected argument "${String(extra[0]).slice(0, 40)}"`);
    const url = values.store ?? io.env.SESSION_STORE_URL;
    if (url === undefined || url === "") {
      throw usageError("no store: pass --store URL or set SESSION_STORE_URL");
    }
    const context: CommandContext = {
      io,
      url,
      json: wantsJson,
      timeoutMs: positiveInteger(values.timeout, "--timeout", DEFAULT_TIMEOUT_MS),
    };
    switch (command) {
      case "doctor":
        return await doctor(context);
      case "stats":
        return await stats(context, {
          top: positiveInteger(values.top, "--top", 10, 0),
          showUsers: values["show-users"] === true,
        });
      case "revoke":
        return await revoke(context, {
          user: values.user,
          all: values.all === true,
          yes: values.yes === true,
        });
      case "gc":
        return await gc(context);
      default:
        return await migrate(context, values["dry-run"] === true);
    }
  } catch (caught) {
    const error =
      caught instanceof CliError
        ? caught
        : (caught as { code?: unknown }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ||
            String((caught as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")
          ? usageError((caught as Error).message)
          : toCliError(caught);
    line(io.stderr, `sessionkit: ${error.message}`);
    if (wantsJson) json(io.stdout, { error: { code: error.code, message: error.message } });
    return error.exitCode;
  }
}
