import { createInterface } from "node:readline";
import { CliError } from "./cli-error.js";
import type { CliIo } from "./io.js";

/**
 * Asks a yes/no question on the terminal (the question goes to stderr, so
 * stdout stays clean for `--json`). Resolves to true only for "y" or "yes".
 * Without a terminal on stdin it refuses: a script must pass `--yes`.
 */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  if (io.stdin.isTTY !== true) {
    throw new CliError(
      "CONFIRMATION_REQUIRED",
      "refusing without confirmation: stdin is not a terminal; pass --yes to confirm",
    );
  }
  const rl = createInterface({ input: io.stdin, terminal: false });
  io.stderr.write(`${question} [y/N] `);
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once("line", resolve);
      rl.once("close", () => resolve(""));
    });
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
