import { getHeapSpaceStatistics } from "node:v8";
import type { ServiceNames } from "./backends.js";
import { type AppSpec, buildApp, readProblem } from "./http-apps.js";
import { inProcessClient } from "./in-process.js";
import { referenceNanos } from "./reference-loop.js";

/**
 * Child process serving one app in process (`in-process.ts`), so its heap
 * holds only its own garbage. Protocol over IPC, one message at a time:
 * `{ start: true }` → `{ ready: true }` (64 sessions signed in, each checked
 * to load); `{ warmUp: { route, ms } }` → `{ warmedUp: requests }`;
 * `{ block: { route, requests } }` → `{ cpu, reference }` (CPU µs per
 * request; the reference loop's ns per iteration just before);
 * `{ allocation: { route, samples } }` → `{ bytes }` (young-generation bytes
 * per request, one figure per sample; needs `--expose-gc`); any failure →
 * `{ error }`.
 */
const names = JSON.parse(process.argv[2] as string) as ServiceNames;
const spec = JSON.parse(process.argv[3] as string) as AppSpec;
const SESSIONS = 64;

const app = await buildApp(spec, names);
const client = inProcessClient(app.listener);
const cookies: (string | undefined)[] = [];

/** Signs in one session per simulated connection and checks that each loads ({@link readProblem}). */
async function start(): Promise<void> {
  for (let i = 0; i < SESSIONS; i++) {
    const login = await client.request("POST", "/login");
    if (login.status !== 200) throw new Error(`POST /login answered ${login.status}`);
    cookies.push(login.cookie);
  }
  for (const cookie of cookies) {
    const read = await client.request("GET", "/read", cookie);
    const problem = readProblem(spec, read.status, read.body);
    if (problem !== undefined) throw new Error(problem);
  }
}

let next = 0;
async function run(route: "read" | "write", requests: number): Promise<void> {
  const method = route === "read" ? "GET" : "POST";
  for (let i = 0; i < requests; i++) {
    await client.send(method, `/${route}`, cookies[next++ % cookies.length]);
  }
}

/** V8's young generation (`new_space`): bytes in use and bytes left. */
function youngGeneration(): { used: number; available: number } {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  if (space === undefined) throw new Error("V8 reports no new_space");
  return { used: space.space_used_size, available: space.space_available_size };
}

/**
 * Young-generation bytes allocated per request, `samples` times: after a
 * minor collection, a run of requests sized (from the run before) to fill at
 * most half of what the young generation has left, so that no collection
 * runs during it; a run that one interrupted anyway (the bytes in use went
 * down) is not counted. The first run only sizes the others. Free of the
 * host's noise: the same code allocates the same bytes.
 */
async function allocation(route: "read" | "write", samples: number): Promise<number[]> {
  const gc = (globalThis as { gc?: (options: { type: "minor" }) => void }).gc;
  if (gc === undefined) throw new Error("the in-process child needs node --expose-gc");
  const bytes: number[] = [];
  let estimate = 100_000; // bytes per request, until a run measured it
  for (let runs = 0; bytes.length < samples; runs++) {
    if (runs > samples * 4) throw new Error(`${route}: collections interrupted the runs`);
    gc({ type: "minor" });
    const before = youngGeneration();
    const requests = Math.max(10, Math.min(2000, Math.floor(before.available / 2 / estimate)));
    await run(route, requests);
    const after = youngGeneration().used;
    if (after <= before.used) continue;
    estimate = (after - before.used) / requests;
    if (runs > 0) bytes.push(Math.round(estimate));
  }
  return bytes;
}

type Message =
  | { start: true }
  | { warmUp: { route: "read" | "write"; ms: number } }
  | { block: { route: "read" | "write"; requests: number } }
  | { allocation: { route: "read" | "write"; samples: number } };

process.on("message", (message: Message) => {
  void (async () => {
    try {
      if ("start" in message) {
        await start();
        process.send?.({ ready: true });
      } else if ("warmUp" in message) {
        const { route, ms } = message.warmUp;
        const ends = performance.now() + ms;
        let requests = 0;
        while (performance.now() < ends) {
          await run(route, 100);
          requests += 100;
        }
        process.send?.({ warmedUp: requests });
      } else if ("allocation" in message) {
        const { route, samples } = message.allocation;
        process.send?.({ bytes: await allocation(route, samples) });
      } else {
        const { route, requests } = message.block;
        const reference = referenceNanos();
        const start = process.cpuUsage();
        await run(route, requests);
        const used = process.cpuUsage(start);
        process.send?.({ cpu: (used.user + used.system) / requests, reference });
      }
    } catch (error) {
      process.send?.({ error: error instanceof Error ? error.message : String(error) });
    }
  })();
});
process.on("disconnect", () => void app.close().finally(() => process.exit(0)));
