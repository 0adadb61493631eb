import { randomBytes } from "node:crypto";
import type { RoundTripCounter } from "./counters.js";
import { type Backend, IDLE_MS, type Subject } from "./subject.js";
import { type BenchData, inParallel, sessionData, slotOf } from "./workload.js";

/** The fewest round trips a session needs on a backend: one per primitive, no checks. */
export interface RawClient {
  get(key: string): Promise<string | null | undefined>;
  insert(key: string, payload: string, expiresAt: number): Promise<void>;
  update(key: string, payload: string, expiresAt: number): Promise<void>;
  touch(key: string, expiresAt: number): Promise<void>;
  destroy(key: string): Promise<void>;
}

/**
 * A raw client as the limit: JSON in a plain key (string, row), read with one
 * command and written with one, no compare-and-set, no signature, no index.
 * Cycles decode and encode JSON as any application would.
 */
export function rawSubject(
  name: string,
  backend: Backend,
  client: RawClient,
  counter: RoundTripCounter,
  cleanup: () => Promise<void>,
): Subject {
  const keys: string[] = [];
  let doomed: string[] = [];
  let template = "";
  let visits = 0;
  const slot = (index: number) => slotOf(index, keys.length);
  const newKey = () => randomBytes(32).toString("hex");
  const load = async (key: string): Promise<BenchData> => {
    const payload = await client.get(key);
    if (payload === null || payload === undefined) throw new Error(`${name}: session missing`);
    return JSON.parse(payload) as BenchData;
  };
  return {
    name,
    backend,
    kind: "raw",
    counter,
    async populate(count) {
      await inParallel(count, 64, async (index) => {
        const key = newKey();
        await client.insert(key, JSON.stringify(sessionData(index)), Date.now() + IDLE_MS);
        keys[index] = key;
      });
      template = JSON.stringify(sessionData(0));
    },
    ops: {
      get: {
        async run(index) {
          await load(keys[slot(index)] as string);
        },
      },
      set: {
        async run(index) {
          await client.update(keys[slot(index)] as string, template, Date.now() + IDLE_MS);
        },
      },
      touch: {
        async run(index) {
          await client.touch(keys[slot(index)] as string, Date.now() + IDLE_MS);
        },
      },
      destroy: {
        async before(count) {
          doomed = [];
          await inParallel(count, 64, async (index) => {
            const key = newKey();
            await client.insert(key, template, Date.now() + IDLE_MS);
            doomed[index] = key;
          });
        },
        async run(index) {
          await client.destroy(doomed[index] as string);
        },
      },
      changed: {
        async run(index) {
          const key = keys[slot(index)] as string;
          const data = await load(key);
          data.visits = ++visits;
          await client.update(key, JSON.stringify(data), Date.now() + IDLE_MS);
        },
      },
      unchanged: {
        async run(index) {
          const data = await load(keys[slot(index)] as string);
          if (data.roles === undefined) throw new Error(`${name}: bad session`);
        },
      },
    },
    close: cleanup,
  };
}
