import { runCli } from "@sessionkit/cli";

/** Runs `sessionkit doctor --json` in-process; resolves to its exit code (0 ok, 1 warnings, 2 errors). */
export function checkSessionStore(url: string): Promise<number> {
  return runCli(["doctor", "--json", "--store", url]);
}
