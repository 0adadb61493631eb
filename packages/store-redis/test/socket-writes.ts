import type { Socket } from "node:net";

type Write = (this: Socket, ...args: unknown[]) => void;
type Writers = Record<"_write" | "_writev", Write>;

/**
 * Counts how many writes each socket hands to the operating system (the
 * stream's `_write` and `_writev` calls: one system call each), until
 * `stop()` puts the socket's own methods back.
 */
export function countWrites(sockets: readonly Socket[]): {
  /** Writes per socket, in the order given. */
  readonly counts: number[];
  stop(): void;
} {
  const counts = sockets.map(() => 0);
  const restore: (() => void)[] = [];
  sockets.forEach((socket, index) => {
    const writers = socket as unknown as Writers;
    for (const name of ["_write", "_writev"] as const) {
      const original = writers[name];
      writers[name] = function (...args) {
        counts[index] = (counts[index] as number) + 1;
        return original.apply(this, args);
      };
      // The methods live on the prototype: deleting the counter uncovers them again.
      restore.push(() => delete (writers as Partial<Writers>)[name]);
    }
  });
  return {
    counts,
    stop: () => {
      for (const undo of restore) undo();
    },
  };
}
