import {
  type ChildProcess,
  execFileSync,
  fork,
  type StdioOptions,
  spawn,
} from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * CPU pinning of the measured processes. On a shared machine one core can be
 * much slower than the other for minutes at a time (measured here: the same
 * loop took 60 % longer on CPU 1 than on CPU 0, then the same on both half a
 * minute later), and the scheduler keeps a process on the core it last ran
 * on: unpinned, two subjects of one comparison could each keep their own
 * core and differ by its speed alone. With `taskset` available (Linux) and two
 * cores or more, every measured process runs on the last core this process may
 * use and the load generator (this process) on the others, so the subjects of a comparison
 * always share one core and meet the same drift, in turns.
 */
export interface Pinning {
  /** The core the measured processes run on, or `undefined` when nothing is pinned. */
  readonly measuredCpu: number | undefined;
  /** Why nothing is pinned, when it is not. */
  readonly unpinnedBecause?: string;
}

/**
 * The CPUs this process may run on, from `Cpus_allowed_list` in
 * `/proc/self/status` (`0-3,6`), ascending; `[]` when it cannot be read. A
 * container or an outer `taskset` may allow CPUs that are not `0..n-1`.
 */
export function allowedCpus(status?: string): number[] {
  let text = status;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/self/status", "utf8");
    } catch {
      return [];
    }
  }
  const list = /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(text)?.[1];
  if (list === undefined) return [];
  const cpus = new Set<number>();
  for (const range of list.split(",")) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(range);
    if (match === null) return [];
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

let pinning: Pinning | undefined;

/** Pins this process (all its threads) to every core but the measured one; idempotent. */
export function pinLoadGenerator(): Pinning {
  if (pinning !== undefined) return pinning;
  const cpus = process.platform === "linux" ? allowedCpus() : [];
  if (cpus.length < 2) {
    const because = `${process.platform}, ${cpus.length} known allowed core(s)`;
    pinning = { measuredCpu: undefined, unpinnedBecause: because };
    return pinning;
  }
  const measuredCpu = cpus[cpus.length - 1] as number;
  const others = cpus.slice(0, -1).join(",");
  try {
    execFileSync("taskset", ["-a", "-p", "-c", others, String(process.pid)], { stdio: "ignore" });
    pinning = { measuredCpu };
  } catch {
    pinning = { measuredCpu: undefined, unpinnedBecause: "taskset is not available" };
  }
  return pinning;
}

/**
 * `fork()` of a measured child process: on the measured core when pinning is
 * on (through `taskset`, which runs Node with the same arguments and IPC
 * channel), a plain `fork()` otherwise. `nodeFlags` are given to the child's
 * Node after this process's own.
 */
export function forkMeasured(
  script: string,
  args: readonly string[],
  stdio: StdioOptions = ["ignore", "ignore", "inherit", "ipc"],
  nodeFlags: readonly string[] = [],
): ChildProcess {
  const { measuredCpu } = pinLoadGenerator();
  const execArgv = [...process.execArgv, ...nodeFlags];
  if (measuredCpu === undefined) return fork(script, [...args], { stdio, execArgv });
  return spawn(
    "taskset",
    ["-c", String(measuredCpu), process.execPath, ...execArgv, script, ...args],
    { stdio },
  );
}
