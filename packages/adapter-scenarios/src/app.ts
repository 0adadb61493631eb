// The scenario app's contract: its data, its two managers, the test-controlled
// gates and the failures it reports. The shared route bodies are in routes.ts,
// the cookie-keeping client in client.ts.
import { createSessionManager, type SessionManager, type SessionStore } from "@sessionkit/core";

/** Data of the main session in the scenario app. */
export interface ScenarioData {
  user?: string;
  cart?: string[];
  poisoned?: boolean;
  [key: string]: unknown;
}

/** Data of the second, independently named session. */
export interface PrefsData {
  theme?: string;
}

/** One gate of {@link Gates}, as the test sees it. */
export interface Gate {
  /** Resolves when a request has reached the gate (its session is loaded and changed). */
  readonly arrived: Promise<void>;
  /** Whether a request has reached the gate: proof that the route's handler ran. */
  readonly reached: boolean;
  /** Lets the waiting request go on. A gate released before any request reaches it lets it pass at once. */
  release(): void;
}

/**
 * Test-controlled gates: a route waits at a named gate until the test releases
 * it, so a test can run another request while the first one is in flight,
 * without timing assumptions.
 */
export class Gates {
  readonly #gates = new Map<string, { arrive(): void; released: Promise<void> }>();

  /** Test side: creates the gate `name`. */
  create(name: string): Gate {
    let reached = false;
    let arrive = (): void => {};
    let release = (): void => {};
    const arrived = new Promise<void>((resolve) => {
      arrive = () => {
        reached = true;
        resolve();
      };
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#gates.set(name, { arrive, released });
    return {
      arrived,
      get reached() {
        return reached;
      },
      release,
    };
  }

  /** App side: reports arrival at the gate `name` and waits for its release. An unknown name passes at once. */
  async pass(name: string): Promise<void> {
    const gate = this.#gates.get(name);
    if (gate === undefined) return;
    this.#gates.delete(name);
    gate.arrive();
    await gate.released;
  }
}

/** What an adapter's app receives: two managers with different cookie names. */
export interface AppContext {
  /** Main session, cookie `__Host-sid`. */
  readonly sessions: SessionManager<ScenarioData>;
  /** Second session, cookie `__Host-prefs`. */
  readonly prefs: SessionManager<PrefsData>;
  /** The gates `POST /slow-set` waits at and `POST /throw-status` reports at. */
  readonly gates: Gates;
  /** Pass as the `onError` option of every session middleware: it records the error in {@link AppContext.errors}. */
  readonly onError: (error: unknown) => void;
  /** The session failures the adapter reported through `onError`, oldest first. */
  readonly errors: unknown[];
}

/** A started app. */
export interface RunningApp {
  /** Base URL, such as `http://127.0.0.1:40123`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the scenario app with a framework, listening on 127.0.0.1 on a free port. */
export type StartApp = (context: AppContext) => Promise<RunningApp>;

/** The secret of the scenario managers. */
export const SCENARIO_SECRET = "adapter-scenarios-secret-0123456789-abcdefghij";

/** Builds the two managers of the scenario app on a store. */
export function createContext(store: SessionStore): AppContext {
  const errors: unknown[] = [];
  return {
    gates: new Gates(),
    errors,
    onError: (error) => {
      errors.push(error);
    },
    sessions: createSessionManager<ScenarioData>({ store, secrets: [SCENARIO_SECRET] }),
    prefs: createSessionManager<PrefsData>({
      store,
      secrets: [SCENARIO_SECRET],
      cookie: { name: "__Host-prefs" },
    }),
  };
}
