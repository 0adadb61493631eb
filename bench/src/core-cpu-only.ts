/**
 * The core CPU figure alone (`pnpm --filter @sessionkit/bench core-cpu`): the
 * same measurement as the full bench's core-cpu section, for comparing a core
 * change quickly. Prints one JSON line per cycle kind.
 */
import { measureCoreCpu } from "./core-cpu.js";

const iterations = Number(process.env.CORE_ITERATIONS ?? 50_000);
const repetitions = Number(process.env.CORE_REPETITIONS ?? 5);
for (const result of await measureCoreCpu(iterations, repetitions)) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
