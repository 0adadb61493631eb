/** A stream the CLI writes to. */
export interface OutputStream {
  write(text: string): unknown;
  /** True when the stream is a terminal. */
  readonly isTTY?: boolean | undefined;
  /** Terminal width in columns, when a terminal. */
  readonly columns?: number | undefined;
}

/** The process surroundings of one CLI run; tests and embedders pass their own. */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Where confirmations are read from. */
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean | undefined };
  /** Environment variables (`SESSION_STORE_URL`). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The real process streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/** Writes one line. */
export function line(stream: OutputStream, text = ""): void {
  stream.write(`${text}\n`);
}

/** Writes a value as JSON, one document per line. */
export function json(stream: OutputStream, value: unknown): void {
  stream.write(`${JSON.stringify(value)}\n`);
}
