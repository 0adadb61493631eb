import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { nextMessage } from "./ipc.js";

/** One fixed-time run: `route` on `port`, each connection sending its own cookie. */
export interface LoadSpec {
  readonly port: number;
  readonly route: "read" | "write";
  readonly cookies: readonly string[];
  readonly connections: number;
  readonly seconds: number;
}

/** What the harness reads of an autocannon run (the same in-process or from a child). */
export interface LoadRun {
  readonly requests: { readonly total: number };
  /** The run's measured duration, seconds. */
  readonly duration: number;
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly errors: number;
  readonly non2xx: number;
}

/** Runs autocannon in this process. */
export async function runLoad(spec: LoadSpec): Promise<LoadRun> {
  let next = 0;
  const run = await autocannon({
    url: `http://127.0.0.1:${spec.port}/${spec.route}`,
    method: spec.route === "read" ? "GET" : "POST",
    connections: spec.connections,
    duration: spec.seconds,
    // autocannon notices the end of a run only at a sample tick: sample often, so a
    // run lasts its duration and not up to a second more.
    sampleInt: 100,
    setupClient(client) {
      const cookie = spec.cookies[next++ % spec.cookies.length] as string;
      client.setHeaders(cookie === "" ? {} : { cookie });
    },
  });
  return {
    requests: { total: run.requests.total },
    duration: run.duration,
    latency: { p50: run.latency.p50, p99: run.latency.p99 },
    errors: run.errors,
    non2xx: run.non2xx,
  };
}

/**
 * The load generator in a process of its own, on the Node binary `node`
 * (`--loadgen-node=<path>`): autocannon is JavaScript, and on a fast host the
 * Node of the servers may be too slow a client to keep a no-session ceiling
 * busy, which leaves the node:http rows unjudged. The child inherits this
 * process's CPU pinning (the load generator's cores) and serves one run at a
 * time over IPC; it stays up between runs, so its JIT stays warm.
 */
export interface LoadGenerator {
  /** `process.version` of the child's Node. */
  readonly version: string;
  run(spec: LoadSpec): Promise<LoadRun>;
}

type Reply = { version: string } | { run: LoadRun } | { error: string };

/** Starts the load generator's process on `node` and waits until it says which Node it runs. */
export async function startLoadGenerator(node: string): Promise<LoadGenerator> {
  if (!existsSync(node)) throw new Error(`--loadgen-node: no file at ${node}`);
  const child: ChildProcess = fork(
    fileURLToPath(new URL("./load-generator-child.ts", import.meta.url)),
    [],
    {
      execPath: node,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    },
  );
  // Keeps the harness alive only while it waits for an answer; the child
  // exits when its channel closes.
  child.unref();
  const reply = async (): Promise<Reply> => {
    child.channel?.ref();
    try {
      return (await nextMessage(child, "load generator")) as Reply;
    } finally {
      child.channel?.unref();
    }
  };
  const hello = await reply();
  if (!("version" in hello))
    throw new Error(`--loadgen-node ${node}: ${"error" in hello ? hello.error : "no version"}`);
  let queue = Promise.resolve();
  return {
    version: hello.version,
    run(spec) {
      const result = queue.then(async () => {
        const answer = reply();
        child.send(spec);
        const got = await answer;
        if ("run" in got) return got.run;
        throw new Error(`load generator: ${"error" in got ? got.error : "no result"}`);
      });
      queue = result.then(
        () => {},
        () => {},
      );
      return result;
    },
  };
}
