import type { CliIo } from "./io.js";

/** What every command receives. */
export interface CommandContext {
  readonly io: CliIo;
  /** The store URL (may hold credentials: print only through `redactUrl`). */
  readonly url: string;
  /** `--json`: one JSON document on stdout instead of text. */
  readonly json: boolean;
  /** `--timeout`: bound on connecting and on each diagnostic query, in ms. */
  readonly timeoutMs: number;
}
