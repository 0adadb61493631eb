import type { OutputStream } from "./io.js";

/** Shows how far a job has come: a redrawn bar on a terminal, plain lines otherwise. */
export interface Progress {
  /** Reports `done` of `total` units. */
  update(done: number): void;
  /** Draws the final state and ends the bar's line. */
  finish(done: number): void;
}

const BAR_WIDTH = 30;

/** The bar text for `done` of `total`, such as `[#########---------------------]  30% 300/1000`. */
export function renderBar(label: string, done: number, total: number): string {
  const ratio = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.round(ratio * BAR_WIDTH);
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  return `${label} [${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${percent} ${done}/${total}`;
}

/**
 * A progress display on `stream` for a job of `total` units. On a terminal
 * it redraws one line (carriage return, then clear to end of line); on
 * anything else it writes a plain line whenever the count changes, at most
 * once per `plainIntervalMs`, so logs stay short.
 */
export function createProgress(
  stream: OutputStream,
  label: string,
  total: number,
  plainIntervalMs = 1_000,
): Progress {
  const terminal = stream.isTTY === true;
  let last = -1;
  let lastWritten = 0;
  const draw = (done: number) => stream.write(`\r${renderBar(label, done, total)}\x1b[K`);
  if (terminal) draw(0);
  else stream.write(`${label}: ${total} to do\n`);
  return {
    update(done) {
      if (done === last) return;
      last = done;
      if (terminal) {
        draw(done);
        return;
      }
      const now = Date.now();
      if (now - lastWritten < plainIntervalMs) return;
      lastWritten = now;
      stream.write(`${label}: ${done}/${total}\n`);
    },
    finish(done) {
      if (terminal) stream.write(`\r${renderBar(label, done, Math.max(total, done))}\x1b[K\n`);
      else stream.write(`${label}: ${done}/${Math.max(total, done)} done\n`);
    },
  };
}
