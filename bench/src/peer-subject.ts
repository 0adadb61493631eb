import { randomBytes } from "node:crypto";
import type { SessionData, Store } from "express-session";
import type { RoundTripCounter } from "./counters.js";
import { type Backend, IDLE_MS, type Subject } from "./subject.js";
import { type BenchData, inParallel, sessionData, slotOf } from "./workload.js";

type PeerSession = SessionData & BenchData;

function peerSession(index: number): PeerSession {
  const cookie = {
    originalMaxAge: IDLE_MS,
    expires: new Date(Date.now() + IDLE_MS),
    httpOnly: true,
    path: "/",
  };
  return { cookie, ...sessionData(index) } as unknown as PeerSession;
}

/** An express-session Store call, promisified the way express-session awaits its callback. */
function call<T>(fn: (callback: (error?: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((error, value) => (error ? reject(error) : resolve(value as T)));
  });
}

/**
 * A peer store through the Store API, called as express-session calls it:
 * a changed request is get then set; an unchanged one get then touch
 * (`resave: false`, so express-session touches instead of rewriting).
 */
export function peerSubject(
  name: string,
  backend: Backend,
  store: Store,
  counter: RoundTripCounter,
  cleanup: () => Promise<void>,
): Subject {
  const sids: string[] = [];
  let template: PeerSession | undefined;
  let doomed: string[] = [];
  let visits = 0;
  const get = (sid: string) =>
    call<SessionData | null>((cb) => store.get(sid, cb)) as Promise<PeerSession | null>;
  const set = (sid: string, session: PeerSession) =>
    call<void>((cb) => store.set(sid, session, cb));
  const touch = (sid: string, session: PeerSession) => {
    const storeTouch = store.touch?.bind(store);
    if (storeTouch === undefined) return Promise.resolve();
    return call<void>((cb) => storeTouch(sid, session, cb));
  };
  const slot = (index: number) => slotOf(index, sids.length);
  const loaded = async (sid: string): Promise<PeerSession> => {
    const session = await get(sid);
    if (session === null || session === undefined) throw new Error(`${name}: session missing`);
    return session;
  };
  const newSid = () => randomBytes(24).toString("base64url");

  return {
    name,
    backend,
    kind: "peer",
    counter,
    async populate(count) {
      await inParallel(count, 64, async (index) => {
        const sid = newSid();
        await set(sid, peerSession(index));
        sids[index] = sid;
      });
      template = peerSession(0);
    },
    ops: {
      get: {
        async run(index) {
          await loaded(sids[slot(index)] as string);
        },
      },
      set: {
        async run(index) {
          const session = { ...(template as PeerSession), visits: ++visits };
          await set(sids[slot(index)] as string, session);
        },
      },
      touch: {
        async run(index) {
          await touch(sids[slot(index)] as string, template as PeerSession);
        },
      },
      destroy: {
        async before(count) {
          doomed = [];
          await inParallel(count, 64, async (index) => {
            const sid = newSid();
            await set(sid, peerSession(index));
            doomed[index] = sid;
          });
        },
        async run(index) {
          await call<void>((cb) => store.destroy(doomed[index] as string, cb));
        },
      },
      changed: {
        async run(index) {
          const sid = sids[slot(index)] as string;
          const session = await loaded(sid);
          session.visits = ++visits;
          await set(sid, session);
        },
      },
      unchanged: {
        async run(index) {
          const sid = sids[slot(index)] as string;
          const session = await loaded(sid);
          if (session.roles === undefined) throw new Error(`${name}: bad session`);
          await touch(sid, session);
        },
      },
    },
    close: cleanup,
  };
}
