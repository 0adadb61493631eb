import type { ChildProcess } from "node:child_process";
import { IncomingMessage, ServerResponse } from "node:http";
import { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { ALLOCATION_SAMPLES } from "./allocation.js";
import type { ServiceNames } from "./backends.js";
import { comparisons } from "./http.js";
import { type AppSpec, appName, type BuiltApp } from "./http-apps.js";
import { ask } from "./ipc.js";
import { forkMeasured } from "./pin.js";
import { median } from "./workload.js";

/**
 * A socket stand-in for requests served in this process: it takes every byte
 * a response writes at once and, when `keep` is set, keeps them (tests read
 * the response back; measured runs keep nothing).
 */
class SinkSocket extends Duplex {
  private chunks: Buffer[] = [];
  constructor(private readonly keep: boolean) {
    super();
  }
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    if (this.keep) this.chunks.push(chunk);
    done();
  }
  override _writev(chunks: { chunk: Buffer }[], done: () => void): void {
    if (this.keep) for (const { chunk } of chunks) this.chunks.push(chunk);
    done();
  }
  /** What was written since the last call, as text. */
  written(): string {
    const text = Buffer.concat(this.chunks).toString("latin1");
    this.chunks = [];
    return text;
  }
}

/** A response served in this process, read back from what it wrote. */
export interface InProcessResponse {
  readonly status: number;
  /** The `name=value` part of its first `Set-Cookie`, if any. */
  readonly cookie: string | undefined;
  readonly body: string;
}

/**
 * Serves requests to one app's listener in this process, one at a time: no
 * socket, no HTTP parser, no load generator, so what a request costs is the
 * JavaScript of the app and its session library, and Node's response writing
 * up to the socket.
 */
export interface InProcessClient {
  /** One request, read back (status, cookie, body). */
  request(method: "GET" | "POST", url: string, cookie?: string): Promise<InProcessResponse>;
  /** One request whose response is thrown away: what the measured blocks run. */
  send(method: "GET" | "POST", url: string, cookie?: string): Promise<void>;
}

/** An {@link InProcessClient} of `listener` (an app's request listener, see `buildApp`). */
export function inProcessClient(listener: BuiltApp["listener"]): InProcessClient {
  const kept = new SinkSocket(true);
  const dropped = new SinkSocket(false);
  const serve = (socket: SinkSocket, method: string, url: string, cookie?: string) => {
    // As node:http's parser hands them over: a complete request without a body.
    const req = new IncomingMessage(socket as never);
    req.method = method;
    req.url = url;
    req.headers = cookie === undefined ? { host: "bench" } : { host: "bench", cookie };
    req.complete = true;
    req.push(null);
    const res = new ServerResponse(req);
    res.assignSocket(socket as never);
    return new Promise<ServerResponse>((resolve) => {
      res.once("finish", () => {
        res.detachSocket(socket as never);
        resolve(res);
      });
      listener(req, res);
    });
  };
  return {
    async request(method, url, cookie) {
      const res = await serve(kept, method, url, cookie);
      // Read from what went out: headers given to writeHead (Fastify's) never
      // show in getHeader().
      const raw = kept.written();
      const end = raw.indexOf("\r\n\r\n");
      const setCookie = raw
        .slice(0, end)
        .split("\r\n")
        .find((line) => line.toLowerCase().startsWith("set-cookie:"));
      return {
        status: res.statusCode,
        cookie: setCookie?.slice("set-cookie:".length, setCookie.indexOf(";")).trim(),
        body: raw.slice(end + 4),
      };
    },
    async send(method, url, cookie) {
      await serve(dropped, method, url, cookie);
    },
  };
}

/** CPU per request of one app served in this process, per route. */
export interface InProcessResult {
  readonly type: "in-process";
  readonly comparison: string;
  readonly app: string;
  readonly route: "read" | "write";
  /** Requests per measured block. */
  readonly requests: number;
  /** CPU µs (user + system) per request: the median over the blocks. */
  readonly cpuMicrosPerRequest: number;
  readonly cpuMicrosPerRequestMin: number;
  readonly cpuMicrosPerRequestMax: number;
  /** CPU µs per request of each block, in order. */
  readonly repetitions: readonly number[];
  /** The reference loop's ns per iteration before each block, median (see core-cpu). */
  readonly referenceNanosPerIteration: number;
  /**
   * Young-generation bytes allocated per request, median of the samples
   * (each a run of requests between two collections), with min and max.
   */
  readonly bytesPerRequest: number;
  readonly bytesPerRequestMin: number;
  readonly bytesPerRequestMax: number;
}

/** How the in-process children are started: measured (pinned), able to run the garbage collector. */
const forkInProcessChild = (script: string, args: readonly string[]): ChildProcess =>
  forkMeasured(script, args, undefined, ["--expose-gc"]);

/**
 * The apps measured in process: those of the HTTP comparisons on the memory
 * store, without the calibration apps (their work is a known cost already).
 */
export function inProcessComparisons(): { name: string; apps: AppSpec[] }[] {
  return comparisons()
    .filter((comparison) => comparison.name.endsWith("/memory"))
    .map((comparison) => ({
      name: comparison.name,
      apps: comparison.apps.filter((spec) => spec.workMicros === undefined),
    }));
}

/** Timing of {@link measureInProcess}. */
export interface InProcessTiming {
  /** Warm-up of each app, per route, ms (which also sizes its blocks). */
  readonly warmUpMs: number;
  /** About how long one measured block of one app runs, ms. */
  readonly blockMs: number;
  readonly repetitions: number;
}

interface Served {
  readonly spec: AppSpec;
  readonly child: ChildProcess;
}

/**
 * What each app of the memory comparisons costs per request with no socket
 * and no load generator: each app in a process of its own (pinned like the
 * HTTP servers), warmed up per route, then measured in interleaved blocks
 * (A B C, C B A, …) of a fixed number of requests, sized from the warm-up to
 * last about `blockMs`. The harness's other work never runs during a block.
 * After a route's blocks, each app reports the young-generation bytes it
 * allocates per request (see `in-process-child.ts`), a figure the host's
 * noise does not move.
 */
export async function measureInProcess(
  names: ServiceNames,
  timing: InProcessTiming,
  filter: (name: string) => boolean,
  onProgress?: (position: string, detail: string) => void,
  forkChild: (script: string, args: readonly string[]) => ChildProcess = forkInProcessChild,
): Promise<InProcessResult[]> {
  const script = fileURLToPath(new URL("./in-process-child.ts", import.meta.url));
  const chosen = inProcessComparisons().filter((comparison) => filter(comparison.name));
  const results: InProcessResult[] = [];
  for (const [index, comparison] of chosen.entries()) {
    const position = `${index + 1}/${chosen.length}`;
    const served: Served[] = [];
    try {
      for (const spec of comparison.apps) {
        const child = forkChild(script, [JSON.stringify(names), JSON.stringify(spec)]);
        served.push({ spec, child });
        await ask(child, "in-process app", { start: true });
      }
      for (const route of ["read", "write"] as const) {
        const blocks = new Map<Served, number>();
        for (const app of served) {
          onProgress?.(position, `${comparison.name} ${route} · warm-up · ${appName(app.spec)}`);
          const reply = await ask<{ warmedUp: number }>(app.child, "in-process app", {
            warmUp: { route, ms: timing.warmUpMs },
          });
          blocks.set(
            app,
            Math.max(10, Math.round((reply.warmedUp * timing.blockMs) / timing.warmUpMs)),
          );
        }
        const cpu = new Map<Served, number[]>(served.map((app) => [app, []]));
        const reference = new Map<Served, number[]>(served.map((app) => [app, []]));
        for (let rep = 0; rep < timing.repetitions; rep++) {
          const order = rep % 2 === 0 ? served : [...served].reverse();
          for (const app of order) {
            onProgress?.(
              position,
              `${comparison.name} ${route} · rep ${rep + 1}/${timing.repetitions} · ${appName(app.spec)}`,
            );
            const reply = await ask<{ cpu: number; reference: number }>(
              app.child,
              "in-process app",
              { block: { route, requests: blocks.get(app) } },
            );
            cpu.get(app)?.push(Number(reply.cpu.toFixed(3)));
            reference.get(app)?.push(reply.reference);
          }
        }
        // After every block of the route: the forced collections never precede a block.
        const bytes = new Map<Served, number[]>();
        for (const app of served) {
          onProgress?.(position, `${comparison.name} ${route} · allocation · ${appName(app.spec)}`);
          const reply = await ask<{ bytes: number[] }>(app.child, "in-process app", {
            allocation: { route, samples: ALLOCATION_SAMPLES },
          });
          bytes.set(app, reply.bytes);
        }
        for (const app of served) {
          const times = cpu.get(app) as number[];
          const allocated = bytes.get(app) as number[];
          results.push({
            type: "in-process",
            comparison: comparison.name,
            app: appName(app.spec),
            route,
            requests: blocks.get(app) as number,
            cpuMicrosPerRequest: median(times),
            cpuMicrosPerRequestMin: Math.min(...times),
            cpuMicrosPerRequestMax: Math.max(...times),
            repetitions: times,
            referenceNanosPerIteration: Math.round(median(reference.get(app) as number[])),
            bytesPerRequest: median(allocated),
            bytesPerRequestMin: Math.min(...allocated),
            bytesPerRequestMax: Math.max(...allocated),
          });
        }
      }
    } finally {
      for (const { child } of served) if (child.connected) child.disconnect();
    }
  }
  return results;
}
