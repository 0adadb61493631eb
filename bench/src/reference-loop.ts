/** Iterations of the reference loop before each block. */
const REFERENCE_ITERATIONS = 100_000;

/**
 * CPU ns per iteration of a fixed loop (`JSON.stringify` of a small object),
 * measured on the same core right before a block: how fast that core ran
 * then. On a shared machine it moves by half between minutes, and the
 * figures measured next to it with it.
 */
export function referenceNanos(): number {
  const start = process.cpuUsage();
  let length = 0;
  for (let i = 0; i < REFERENCE_ITERATIONS; i++) {
    length += JSON.stringify({ a: i, b: [1, 2, 3], c: `reference ${i}` }).length;
  }
  const used = process.cpuUsage(start);
  if (length === 0) throw new Error("unreachable: keeps the loop from being optimised away");
  return ((used.user + used.system) * 1000) / REFERENCE_ITERATIONS;
}
