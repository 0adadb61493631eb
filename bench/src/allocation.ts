import { getHeapSpaceStatistics } from "node:v8";

/** V8's young generation (`new_space`): bytes in use and bytes left. */
function youngGeneration(): { used: number; available: number } {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  if (space === undefined) throw new Error("V8 reports no new_space");
  return { used: space.space_used_size, available: space.space_available_size };
}

/** Samples taken of each figure (a route of an app, a kind of core cycle). */
export const ALLOCATION_SAMPLES = 5;

/** A minor collection (`gc({ type: "minor" })` of `node --expose-gc`). */
export type MinorCollection = (options: { type: "minor" }) => void;

/** The `gc` function `node --expose-gc` installs, or `undefined` without the flag. */
export function exposedGc(): MinorCollection | undefined {
  return (globalThis as { gc?: MinorCollection }).gc;
}

/**
 * Young-generation bytes allocated per unit of `run(count)` (a request, a
 * cycle), `samples` times: after a minor collection, a run sized (from the
 * run before) to fill at most half of what the young generation has left, so
 * that no collection runs during it; a run that one interrupted anyway (the
 * bytes in use went down) is not counted. The first run only sizes the
 * others. Free of the host's noise: the same code allocates the same bytes.
 *
 * @param gc - A minor collection: the child's own with `node --expose-gc`.
 */
export async function youngBytesPerUnit(
  run: (count: number) => Promise<void>,
  samples: number,
  gc: MinorCollection,
): Promise<number[]> {
  const bytes: number[] = [];
  let estimate = 100_000; // bytes per unit, until a run measured it
  for (let runs = 0; bytes.length < samples; runs++) {
    if (runs > samples * 4) throw new Error("collections interrupted the allocation runs");
    gc({ type: "minor" });
    const before = youngGeneration();
    const count = Math.max(10, Math.min(2000, Math.floor(before.available / 2 / estimate)));
    await run(count);
    const after = youngGeneration().used;
    if (after <= before.used) continue;
    estimate = (after - before.used) / count;
    if (runs > 0) bytes.push(Math.round(estimate));
  }
  return bytes;
}
