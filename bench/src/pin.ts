import {
  type ChildProcess,
  execFileSync,
  fork,
  type StdioOptions,
  spawn,
} from "node:child_process";
import { availableParallelism } from "node:os";

/**
 * CPU pinning of the measured processes. On a shared machine one core can be
 * much slower than the other for minutes at a time (measured here: the same
 * loop took 60 % longer on CPU 1 than on CPU 0, then the same on both half a
 * minute later), and the scheduler keeps a process on the core it last ran
 * on: unpinned, two subjects of one comparison could each keep their own
 * core and differ by its speed alone. With `taskset` available (Linux) and two
 * cores or more, every measured process runs on the last core and the load
 * generator (this process) on the others, so the subjects of a comparison
 * always share one core and meet the same drift, in turns.
 */
export interface Pinning {
  /** The core the measured processes run on, or `undefined` when nothing is pinned. */
  readonly measuredCpu: number | undefined;
  /** Why nothing is pinned, when it is not. */
  readonly unpinnedBecause?: string;
}

let pinning: Pinning | undefined;

/** Pins this process (all its threads) to every core but the measured one; idempotent. */
export function pinLoadGenerator(): Pinning {
  if (pinning !== undefined) return pinning;
  const cpus = availableParallelism();
  if (process.platform !== "linux" || cpus < 2) {
    pinning = { measuredCpu: undefined, unpinnedBecause: `${process.platform}, ${cpus} core(s)` };
    return pinning;
  }
  const measuredCpu = cpus - 1;
  try {
    execFileSync("taskset", ["-a", "-p", "-c", `0-${measuredCpu - 1}`, String(process.pid)], {
      stdio: "ignore",
    });
    pinning = { measuredCpu };
  } catch {
    pinning = { measuredCpu: undefined, unpinnedBecause: "taskset is not available" };
  }
  return pinning;
}

/**
 * `fork()` of a measured child process: on the measured core when pinning is
 * on (through `taskset`, which runs Node with the same arguments and IPC
 * channel), a plain `fork()` otherwise.
 */
export function forkMeasured(
  script: string,
  args: readonly string[],
  stdio: StdioOptions = ["ignore", "ignore", "inherit", "ipc"],
): ChildProcess {
  const { measuredCpu } = pinLoadGenerator();
  if (measuredCpu === undefined) return fork(script, [...args], { stdio });
  return spawn(
    "taskset",
    ["-c", String(measuredCpu), process.execPath, ...process.execArgv, script, ...args],
    { stdio },
  );
}
