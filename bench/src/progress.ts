/**
 * Progress on stderr, so stdout stays pure JSON lines: which section, which
 * subject, which phase, how far. On a terminal one line is rewritten in place;
 * otherwise (CI, a pipe, a log file) every step is a line of its own.
 */
const started = Date.now();
const tty = process.stderr.isTTY === true;
let lineShown = false;

const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;

/** One step: `[http 3/11] express/redis read · rep 2/5 · express + sessionkit/redis`. */
export function step(section: string, position: string, detail: string): void {
  const text = `[${section} ${position}] ${detail} (${elapsed()})`;
  if (!tty) {
    process.stderr.write(`${text}\n`);
    return;
  }
  const width = Math.max(20, (process.stderr.columns || 100) - 1);
  process.stderr.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
  lineShown = true;
}

/** A message that must stay on screen (a skipped app, an invalid figure, a summary). */
export function note(text: string): void {
  clear();
  process.stderr.write(`${text}\n`);
}

/** Removes the updating line (at the end of a run). */
export function clear(): void {
  if (tty && lineShown) process.stderr.write("\r\x1b[2K");
  lineShown = false;
}
