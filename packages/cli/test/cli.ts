import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
const CWD = fileURLToPath(new URL("..", import.meta.url));

/** How the real binary is started: from source, as `pnpm test` needs no build. */
const NODE_ARGS = ["--conditions=dev-source", "--import", "tsx", BIN];

/** What one run of the binary produced. */
export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link sessionkit}. */
export interface RunOptions {
  /** Extra environment (merged over the test's). */
  readonly env?: Record<string, string>;
  /** Written to stdin, which is then closed. */
  readonly input?: string;
  /** Working directory. */
  readonly cwd?: string;
}

/** Runs `sessionkit …` as a child process with pipes (no terminal). */
export function sessionkit(args: readonly string[], options: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
      cwd: options.cwd ?? CWD,
      env: { ...process.env, SESSION_STORE_URL: "", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

/**
 * Runs `sessionkit …` inside a pseudo-terminal (util-linux `script`), so
 * stdin, stdout and stderr are all a terminal. Both outputs arrive merged in
 * `stdout`, with the terminal's CRLF line ends; `input` is typed after the
 * question `waitFor` appears.
 */
export function sessionkitInTerminal(
  args: readonly string[],
  options: { readonly input?: string; readonly waitFor?: string } = {},
): Promise<Result> {
  const command = [process.execPath, ...NODE_ARGS, ...args].map(quote).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qfec", command, "/dev/null"], {
      cwd: CWD,
      env: { ...process.env, SESSION_STORE_URL: "", TERM: "xterm" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let typed = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (!typed && options.waitFor !== undefined && stdout.includes(options.waitFor)) {
        typed = true;
        child.stdin.write(options.input ?? "");
      }
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr: "" }));
  });
}

/** A random lowercase name part, so tests never share keys, tables or files. */
export function unique(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

/** The service URL from the environment; a clear failure when it is missing. */
export function requireEnv(name: "REDIS_URL" | "DATABASE_URL"): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(
      `${name} is not set: start ${name === "REDIS_URL" ? "Redis" : "PostgreSQL"} and export ${name} (e.g. ${name === "REDIS_URL" ? "redis://127.0.0.1:6379" : "postgres://postgres@127.0.0.1:5432/test"})`,
    );
  }
  return value;
}

/** The terminal's output without colour codes, carriage returns made visible as line breaks for matching. */
export function plain(text: string): string {
  return text.replaceAll("\r\n", "\n");
}
