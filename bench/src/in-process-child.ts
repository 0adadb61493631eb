import { exposedGc, youngBytesPerUnit } from "./allocation.js";
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
        const gc = exposedGc();
        if (gc === undefined) throw new Error("the in-process child needs node --expose-gc");
        process.send?.({
          bytes: await youngBytesPerUnit((count) => run(route, count), samples, gc),
        });
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
