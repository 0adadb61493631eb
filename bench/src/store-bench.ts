import type { SubjectFactory } from "./backends.js";
import type { BenchConfig } from "./config.js";
import { step } from "./progress.js";
import { emit, type StoreResult } from "./report.js";
import type { Subject } from "./subject.js";
import { measure, OPERATIONS, type OperationName } from "./workload.js";

const COUNT_WINDOW = 20;

/** Commands per operation, counted over a sequential window (never during timed runs). */
async function countRoundTrips(subject: Subject, op: OperationName) {
  const operation = subject.ops[op];
  await operation.before?.(COUNT_WINDOW);
  await subject.counter.begin();
  for (let i = 0; i < COUNT_WINDOW; i++) await operation.run(i);
  const counted = await subject.counter.end();
  return {
    roundTrips: counted.roundTrips / COUNT_WINDOW,
    serverCommands: counted.serverCommands / COUNT_WINDOW,
  };
}

/** Populates one subject, counts its round trips, then times every operation at every concurrency. */
export async function benchSubject(
  factory: SubjectFactory,
  config: BenchConfig,
  position = "",
): Promise<StoreResult[]> {
  const subject = await factory();
  const label = `${subject.backend}/${subject.name}`;
  const results: StoreResult[] = [];
  try {
    step("store", position, `${label}: populating ${config.sessions} sessions`);
    await subject.populate(config.sessions);
    for (const op of OPERATIONS) {
      step("store", position, `${label}: counting round trips of ${op}`);
      const counted = await countRoundTrips(subject, op);
      const cycle = op === "changed" || op === "unchanged";
      for (const concurrency of cycle ? config.concurrencies : config.storeOpConcurrencies) {
        step("store", position, `${label}: ${op} at concurrency ${concurrency}`);
        const measured = await measure(subject.ops[op], {
          concurrency,
          warmupMs: config.warmupMs,
          runs: config.runs,
          runMs: config.runMs,
          maxOps: op === "destroy" ? config.destroyPerRun : config.maxOpsPerRun,
        });
        const result: StoreResult = {
          type: "store",
          backend: subject.backend,
          subject: subject.name,
          kind: subject.kind,
          op,
          concurrency,
          ...measured,
          ...counted,
        };
        emit(result);
        results.push(result);
      }
    }
  } finally {
    await subject.close();
  }
  return results;
}
