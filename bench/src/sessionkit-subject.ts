import {
  createSessionManager,
  type SessionManager,
  type SessionRecord,
  type SessionStore,
} from "@sessionkit/core";
import { storeKeyOf } from "@sessionkit/core/store";
import type { RoundTripCounter } from "./counters.js";
import { type Backend, IDLE_MS, SECRET, type Subject } from "./subject.js";
import { type BenchData, inParallel, sessionData, slotOf } from "./workload.js";

/** A request as the manager sees it: a fresh object per call (load() caches per request object). */
function requestWith(cookie: string | undefined) {
  return { headers: cookie === undefined ? {} : { cookie } };
}

/** The `name=value` part of a Set-Cookie header. */
export function cookiePair(setCookie: string): string {
  return setCookie.slice(0, setCookie.indexOf(";"));
}

/** Creates `count` sessions holding the bench's data on `manager`; resolves with their cookies. */
export async function signedInCookies(
  manager: SessionManager<BenchData>,
  count: number,
): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < count; i++) {
    const session = await manager.load({ headers: {} });
    const data = sessionData(i);
    for (const key of Object.keys(data) as (keyof BenchData)[]) session.set(key, data[key]);
    const setCookie = (await session.commit()).headers.find(([name]) => name === "Set-Cookie");
    cookies.push(cookiePair((setCookie as readonly [string, string])[1]));
  }
  return cookies;
}

/**
 * sessionkit on one store: store-level calls go straight to the store; the
 * request cycles go through the session manager with real signed cookies.
 */
export function sessionkitSubject(
  backend: Backend,
  store: SessionStore,
  counter: RoundTripCounter,
  cleanup: () => Promise<void>,
  name = "sessionkit",
): Subject {
  const manager = createSessionManager<BenchData>({ store, secrets: [SECRET] });
  const cookies: string[] = [];
  const keys: string[] = [];
  const versions: number[] = [];
  let template: SessionRecord | undefined;
  let doomed: string[] = [];
  // Strictly increasing, so every changed cycle really changes the payload.
  let visits = 0;

  const create = async (index: number): Promise<{ cookie: string; key: string }> => {
    const session = await manager.load(requestWith(undefined));
    const data = sessionData(index);
    for (const field of Object.keys(data) as (keyof BenchData)[]) {
      session.set(field, data[field]);
    }
    const { headers } = await session.commit();
    const setCookie = headers.find(([header]) => header === "Set-Cookie")?.[1];
    if (setCookie === undefined) throw new Error("sessionkit: no Set-Cookie on create");
    const cookie = cookiePair(setCookie);
    const token = cookie.slice(cookie.indexOf("=") + 1);
    return { cookie, key: storeKeyOf(token.slice(0, token.indexOf("."))) };
  };
  const slot = (index: number) => slotOf(index, keys.length);
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`sessionkit/${backend}: ${what} failed`);
  };

  return {
    name,
    backend,
    kind: "sessionkit",
    counter,
    async populate(count) {
      await inParallel(count, 64, async (index) => {
        const { cookie, key } = await create(index);
        cookies[index] = cookie;
        keys[index] = key;
        versions[index] = 1;
      });
      template = (await store.get(keys[0] as string)) ?? undefined;
    },
    ops: {
      get: {
        async run(index) {
          check((await store.get(keys[slot(index)] as string)) !== null, "get");
        },
      },
      set: {
        async run(index) {
          const i = slot(index);
          const version = versions[i] as number;
          const base = template as SessionRecord;
          const record = { ...base, version: version + 1, expiresAt: Date.now() + IDLE_MS };
          versions[i] = version + 1;
          check(await store.set(keys[i] as string, record, { ifVersion: version }), "set");
        },
      },
      touch: {
        async run(index) {
          const i = slot(index);
          const touch = store.touch?.bind(store);
          if (touch === undefined) throw new Error(`${store.name} has no touch`);
          const expiresAt = Date.now() + IDLE_MS;
          check(await touch(keys[i] as string, expiresAt, { ifVersion: versions[i] }), "touch");
        },
      },
      destroy: {
        async before(count) {
          doomed = [];
          await inParallel(count, 64, async (index) => {
            doomed[index] = (await create(index)).key;
          });
        },
        async run(index) {
          await store.destroy(doomed[index] as string);
        },
      },
      changed: {
        async run(index) {
          const session = await manager.load(requestWith(cookies[slot(index)]));
          check(!session.isNew, "load");
          session.set("visits", ++visits);
          await session.commit();
        },
      },
      unchanged: {
        async run(index) {
          const session = await manager.load(requestWith(cookies[slot(index)]));
          check(session.get("roles") !== undefined, "load");
          await session.commit();
        },
      },
    },
    close: cleanup,
  };
}
