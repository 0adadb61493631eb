import {
  createSessionManager,
  type SessionData,
  type SessionEvent,
  type SessionManager,
  type SessionManagerOptions,
  type SessionStore,
} from "@sessionkit/core";
import { loopTurn } from "@sessionkit/core/node";
import { mapStore } from "./map-store.js";

export const SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
export const OLD_SECRET = "old-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA-9876543210";

/** Wraps a store and counts calls per method, to prove which round trips happen. */
export function countingStore(
  inner: SessionStore,
): SessionStore & { calls: Record<string, number>; reset(): void } {
  const calls: Record<string, number> = {};
  const proxy = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === "calls") return calls;
      if (property === "reset")
        return () => {
          for (const key of Object.keys(calls)) delete calls[key];
        };
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls[String(property)] = (calls[String(property)] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return proxy as SessionStore & { calls: Record<string, number>; reset(): void };
}

/** A manual clock. */
export function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

export interface Harness<Data extends object> {
  sessions: SessionManager<Data>;
  store: ReturnType<typeof countingStore>;
  clock: ReturnType<typeof manualClock>;
  events: SessionEvent[];
  /** A request carrying the given Cookie header. */
  request(cookie?: string, extra?: Record<string, string>): Request;
  /** The `name=value` pair from a Set-Cookie header, for the next request. */
  cookieFrom(headers: readonly (readonly [string, string])[]): string;
}

export function harness<Data extends object = SessionData>(
  options: Partial<SessionManagerOptions> = {},
): Harness<Data> {
  const clock = manualClock();
  const store = countingStore(mapStore({ now: clock.now }));
  const events: SessionEvent[] = [];
  const sessions = createSessionManager<Data>({
    store,
    secrets: [SECRET],
    now: clock.now,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return {
    sessions,
    store,
    clock,
    events,
    request(cookie, extra = {}) {
      const headers = new Headers(extra);
      if (cookie !== undefined) headers.set("cookie", cookie);
      return new Request("https://example.test/path", { headers });
    },
    cookieFrom(headers) {
      const setCookie = headers.find(([name]) => name === "Set-Cookie")?.[1];
      if (setCookie === undefined) throw new Error("no Set-Cookie header");
      return setCookie.slice(0, setCookie.indexOf(";"));
    },
  };
}

/**
 * The two event-loop conditions scheduling is tested in (`resumeInTurn`):
 * under load a session loaded without I/O goes on in the turn's check phase,
 * with one request per turn at once.
 */
export const TURN_LOADS = [
  { name: "under load (two requests arrived in the last turn)", arrivals: 2, deferred: true },
  { name: "one request per turn", arrivals: 1, deferred: false },
] as const;

/**
 * Ends the current event-loop turn, then one in which exactly `arrivals`
 * requests arrived (calls of `loopTurn`).
 */
export async function afterTurnWith(arrivals: number): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < arrivals; i++) loopTurn();
  await new Promise((resolve) => setImmediate(resolve));
}
