import { createSessionManager } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { z } from "zod";
import { exposedGc, youngBytesPerUnit } from "./allocation.js";
import type { CoreCycle } from "./core-cpu.js";
import { referenceNanos } from "./reference-loop.js";
import { signedInCookies } from "./sessionkit-subject.js";
import { SECRET } from "./subject.js";
import type { BenchData } from "./workload.js";

/**
 * Child process measuring one kind of core cycle (`process.argv[2]`), so its
 * heap holds only its own garbage: a block never pays for old-generation
 * garbage another kind promoted. Protocol over IPC, one message at a time:
 * `{ warmUp: ms }` → `{ warmedUp: cycles }`; `{ block: n }` → `{ cpu, wall, reference }`
 * (µs per cycle over `n` cycles; the reference loop's ns per iteration just before);
 * `{ allocation: samples }` → `{ bytes }` (young-generation bytes per cycle, one
 * figure per sample; needs `--expose-gc`) or `{ error }`.
 */
const kind = process.argv[2] as CoreCycle;
const change = kind.startsWith("changed");

const store = createMemoryStore({ maxEntries: 10_000, gcIntervalMs: false });
// The same sessions, checked on load and on write by a schema of their shape.
const schema = z.object({
  userId: z.string(),
  roles: z.array(z.string()),
  csrf: z.string(),
  cart: z.array(z.object({ sku: z.string(), qty: z.number().int(), priceCents: z.number() })),
  visits: z.number().int(),
});
// Measured as production runs it: the defaults that depend on NODE_ENV are production's.
process.env.NODE_ENV = "production";
const manager = kind.includes("zod schema")
  ? createSessionManager({
      store,
      secrets: [SECRET],
      schema,
      ...(kind.endsWith("checkWrites") ? { checkWrites: true } : {}),
    })
  : createSessionManager<BenchData>({ store, secrets: [SECRET] });

const cookies = await signedInCookies(manager, 1_000);

let visits = 0;
let next = 0;
/** Load, then read an object value (unchanged) or set the counter (changed), then commit. */
async function cycle(): Promise<void> {
  const cookie = cookies[next++ % cookies.length] as string;
  const session = await manager.load({ headers: { cookie } });
  if (change) session.set("visits", ++visits);
  else session.get("roles");
  await session.commit();
}

async function run(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await cycle();
}

process.on("message", (message: { warmUp?: number; block?: number; allocation?: number }) => {
  void (async () => {
    if (message.allocation !== undefined) {
      const gc = exposedGc();
      process.send?.(
        gc === undefined
          ? { error: "the core-cpu cycle process needs node --expose-gc" }
          : { bytes: await youngBytesPerUnit(run, message.allocation, gc) },
      );
    } else if (message.warmUp !== undefined) {
      const ends = Date.now() + message.warmUp;
      let cycles = 0;
      while (Date.now() < ends) {
        await run(1_000);
        cycles += 1_000;
      }
      process.send?.({ warmedUp: cycles });
    } else if (message.block !== undefined) {
      const reference = referenceNanos();
      const cpuStart = process.cpuUsage();
      const wallStart = process.hrtime.bigint();
      await run(message.block);
      const used = process.cpuUsage(cpuStart);
      const wallNs = Number(process.hrtime.bigint() - wallStart);
      process.send?.({
        cpu: (used.user + used.system) / message.block,
        wall: wallNs / 1000 / message.block,
        reference,
      });
    }
  })();
});
process.on("disconnect", () => process.exit(0));
process.send?.({ ready: true });
