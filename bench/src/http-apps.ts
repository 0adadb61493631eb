import { pbkdf2Sync } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import fastifyCookie from "@fastify/cookie";
import fastifySession, { type SessionStore as FastifySessionStore } from "@fastify/session";
import { createSessionManager, type Session, type SessionManager } from "@sessionkit/core";
import { createNodeHandler } from "@sessionkit/core/node";
import express, { type Request, type Response } from "express";
import expressSession from "express-session";
import fastify, { type FastifyInstance } from "fastify";
import {
  openPeerStore,
  openSessionkitStore,
  type PeerKind,
  type ServiceNames,
} from "./backends.js";
import { type FloorSession, floorSessions } from "./floor-session.js";
import { type Backend, clientSuffix, type RedisClientKind, SECRET, workSuffix } from "./subject.js";
import { type BenchData, sessionData } from "./workload.js";

export type Framework = "node:http" | "express" | "fastify";

/** Which app to serve: a framework, and sessionkit, a peer session library or no session at all. */
export interface AppSpec {
  readonly framework: Framework;
  /**
   * `floor`: node:http only, the hand-written session of `floor-session.ts` on
   * a `Map` (store `memory`): the fewest steps that keep sessionkit's
   * guarantees, after the same one `await` as the async ceiling.
   */
  readonly sessions: "sessionkit" | "express-session" | "@fastify/session" | "floor" | "none";
  readonly store: Backend | "none";
  /** The peer's store (express-session and @fastify/session); `memory` is the library's own. */
  readonly peer?: PeerKind;
  /**
   * No-session apps only: answer synchronously (`sync`), or after one `await`
   * of an already resolved promise (`async`), the least any asynchronous
   * session middleware must add.
   */
  readonly ceiling?: "sync" | "async";
  /**
   * node:http async ceilings only: after its `await`, the handler does an
   * amount of CPU work sized to take this many µs per request, as timed
   * around each call in the server, before answering. A known cost, to see
   * what the cost figures over the async ceiling make of it (a calibration,
   * not a target).
   */
  readonly workMicros?: number;
  /** @fastify/session only: its `rolling` option (its default, `true`, saves on every request). */
  readonly rolling?: boolean;
  /** sessionkit on Redis only: the client library its store is given (default ioredis). */
  readonly redisClient?: RedisClientKind;
}

/** The app's name in results, tables and charts. */
export function appName(spec: AppSpec): string {
  switch (spec.sessions) {
    case "none":
      return `${spec.framework} + no session${spec.ceiling === "async" ? ", one await" : ""}${workSuffix(spec.workMicros)}`;
    case "sessionkit":
      return `${spec.framework} + sessionkit/${spec.store}${clientSuffix(spec.redisClient)}`;
    case "floor":
      return `${spec.framework} + hand-written floor/${spec.store}`;
    case "express-session":
      return `${spec.framework} + express-session/${spec.peer}`;
    case "@fastify/session":
      return `${spec.framework} + @fastify/session/${spec.peer}${spec.rolling === false ? ", rolling: false" : ""}`;
  }
}

/**
 * A fixed amount of CPU work: PBKDF2-SHA256 with `iterations` rounds, native
 * code whose cost does not depend on how the JIT compiled its caller (a
 * JavaScript loop measured 10 µs in one tier and 50 µs in another).
 */
function work(iterations: number): void {
  pbkdf2Sync("sessionkit", "calibration", iterations, 32, "sha256");
}

/**
 * Rounds of {@link work} that take `micros` µs of this process's CPU time per
 * call on its core now: from a guess, four times, 2,000 calls timed and the
 * rounds scaled by what they cost (the call's own overhead included).
 */
function workIterationsFor(micros: number): number {
  let iterations = 16;
  for (let round = 0; round < 4; round++) {
    const start = process.cpuUsage();
    for (let call = 0; call < 2000; call++) work(iterations);
    const used = process.cpuUsage(start);
    const perCall = (used.user + used.system) / 2000;
    iterations = Math.max(1, Math.round((iterations * micros) / perCall));
  }
  return iterations;
}

/** Time the calibration app's requests spent in {@link work}, as timed around each call, µs. */
let workMicrosSpent = 0;

/**
 * The time this process's calibration app spent in its work so far, µs: the
 * work timed where it runs, among the requests.
 */
export const workMicrosSpentSoFar = (): number => workMicrosSpent;

/** Calls of the calibration work between two re-sizings. */
const RESIZE_EVERY = 1000;

/**
 * The calibration app's work: sized at start-up by {@link workIterationsFor},
 * then timed around every call where it runs, among the requests, and
 * re-sized every {@link RESIZE_EVERY} calls to what those calls took. Sized on
 * an idle core alone, the same rounds took 30 % less or 20 % more than
 * `micros` per request in the server (the start-up sizing also counts the
 * process's other threads); re-sized in place, the warm-up brings it to
 * `micros`, and what it took in each run is reported ({@link workMicrosSpentSoFar}).
 */
function sizedWork(micros: number): () => void {
  let iterations = workIterationsFor(micros);
  let calls = 0;
  let windowMicros = 0;
  return () => {
    const start = performance.now();
    work(iterations);
    const took = (performance.now() - start) * 1000;
    workMicrosSpent += took;
    windowMicros += took;
    if (++calls % RESIZE_EVERY === 0) {
      // At most a factor of two per step: one window slowed by the host misleads less.
      const scale = Math.min(2, Math.max(0.5, (micros * RESIZE_EVERY) / windowMicros));
      iterations = Math.max(1, Math.round(iterations * scale));
      windowMicros = 0;
    }
  };
}

/** The one already resolved promise the async ceilings await. */
const RESOLVED = Promise.resolve();

export interface RunningApp {
  readonly port: number;
  close(): Promise<void>;
}

/** The same three routes everywhere: POST /login creates the session, GET /read reads it, POST /write changes one field. */
type Route = "login" | "read" | "write";
const routeOf = (url: string | undefined): Route | undefined =>
  url === "/read" ? "read" : url === "/write" ? "write" : url === "/login" ? "login" : undefined;

/** What a route does to a session, written once for every session API. */
interface SessionLike {
  get(key: keyof BenchData): unknown;
  set(key: keyof BenchData, value: unknown): void;
}
let visits = 0;
function handle(route: Route, session: SessionLike | undefined): string {
  if (route === "login") {
    const data = sessionData(visits++);
    for (const key of Object.keys(data) as (keyof BenchData)[]) session?.set(key, data[key]);
    return '{"ok":true}';
  }
  if (route === "write") session?.set("visits", ++visits);
  const roles = session === undefined ? ["none"] : (session.get("roles") as string[] | undefined);
  return `{"ok":true,"roles":${roles?.length ?? 0}}`;
}

/**
 * What is wrong with a `GET /read` answer for a signed-in session of `spec`'s
 * app, or `undefined`: the read route reports the two roles stored at login
 * (a no-session app reports one), so no app is measured doing less than the
 * others.
 */
export function readProblem(spec: AppSpec, status: number, body: string): string | undefined {
  const expected = spec.sessions === "none" ? '"roles":1' : '"roles":2';
  return status === 200 && body.includes(expected)
    ? undefined
    : `GET /read answered ${status} ${body} (expected ${expected})`;
}

/**
 * sessionkit's session has get(key) and set(key, value) itself: used as it is,
 * like @fastify/session's.
 */
const fromSessionkit = (session: Session<BenchData>): SessionLike => session as SessionLike;
/**
 * express-session's req.session (properties on the object) through one shared
 * adapter, pointed at the request's session before each synchronous
 * {@link handle}: no app pays for a wrapper object per request.
 */
const expressSessionAdapter = {
  session: {} as Record<string, unknown>,
  get(key: keyof BenchData): unknown {
    return this.session[key];
  },
  set(key: keyof BenchData, value: unknown): void {
    this.session[key] = value;
  },
};
const fromExpressSession = (session: Record<string, unknown>): SessionLike => {
  expressSessionAdapter.session = session;
  return expressSessionAdapter;
};

/** Requests still being handled, so a store is closed only once nothing uses it. */
let inFlight = 0;
function track(server: Server): void {
  server.on("request", (_req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    res.once("close", () => inFlight--);
  });
}

async function drained(): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

function listen(server: Server): Promise<number> {
  track(server);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : 0);
    });
  });
}

/**
 * A response closes as soon as its client goes away, which autocannon does
 * at the end of every run, while its handler may still be committing: this
 * long after the last connection closed, no handler still uses the store.
 */
const HANDLER_GRACE_MS = 500;

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await drained();
  server.closeAllConnections();
  await closed;
  // Only then may the caller close the store (no STORE_UNAVAILABLE from a late commit).
  await new Promise((resolve) => setTimeout(resolve, HANDLER_GRACE_MS));
}

const send = (res: ServerResponse, body: string) => {
  res.setHeader("Content-Type", "application/json");
  res.end(body);
};

/**
 * node:http with the hand-written floor session: after the async ceiling's one
 * `await`, load, the route, commit, then the answer (`Vary: Cookie` always;
 * a new session's cookie with `Cache-Control: no-store`; 409 when the
 * compare-and-set failed).
 */
function floorListener(): (req: IncomingMessage, res: ServerResponse) => void {
  const floor = floorSessions(SECRET);
  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    const route = routeOf(req.url);
    if (route === undefined) return void res.writeHead(404).end();
    const session: FloorSession = floor.load(req.headers.cookie);
    const body = handle(route, session);
    const cookie = floor.commit(session);
    res.setHeader("Vary", "Cookie");
    if (cookie === false) return void res.writeHead(409).end();
    if (cookie !== undefined) {
      res.setHeader("Set-Cookie", cookie);
      res.setHeader("Cache-Control", "no-store");
    }
    send(res, body);
  };
  // As the async ceiling: one async function and one await per request.
  const awaiting = async (req: IncomingMessage, res: ServerResponse) => {
    await RESOLVED;
    try {
      answer(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  };
  return (req, res) => void awaiting(req, res);
}

/** A variable specifier keeps the adapters (built in parallel by others) out of type-checking. */
async function importAdapter(name: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(name)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * One app, built but not serving: its request listener (what `createServer`
 * would be given), and how to close it. Served over HTTP by {@link startApp},
 * or driven in this process, without sockets, by `in-process.ts`.
 */
export interface BuiltApp {
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Fastify only: the instance, which serves over HTTP through its own `listen`. */
  readonly fastify?: FastifyInstance;
  /** Stops reporting the app's errors: what still runs once it closes fails, as expected then. */
  readonly quiet?: () => void;
  /** Closes the app (not a server) and its store. */
  close(): Promise<void>;
}

/** Builds the app of `spec`: its session library on its store, and the three routes. */
export async function buildApp(spec: AppSpec, names: ServiceNames): Promise<BuiltApp> {
  const tag = `http_${spec.framework.replace(/\W/g, "")}`;
  let closeStore = async () => {};
  let manager: SessionManager<BenchData> | undefined;
  if (spec.sessions === "sessionkit" && spec.store !== "none") {
    const opened = await openSessionkitStore(names, spec.store, tag, spec.redisClient);
    closeStore = opened.close;
    manager = createSessionManager<BenchData>({
      store: opened.store,
      secrets: [SECRET],
      cookie: { secure: false },
    });
  }

  const { workMicros } = spec;
  if (workMicros !== undefined && (spec.framework !== "node:http" || spec.ceiling !== "async"))
    throw new Error(`${appName(spec)}: workMicros is for the node:http async ceiling only`);
  const doWork = workMicros === undefined ? undefined : sizedWork(workMicros);
  if (spec.sessions === "floor" && (spec.framework !== "node:http" || spec.store !== "memory"))
    throw new Error(`${appName(spec)}: the hand-written floor is for node:http on memory only`);

  if (spec.framework === "node:http") {
    const plain = (req: IncomingMessage, res: ServerResponse) => {
      const route = routeOf(req.url);
      if (route === undefined) return void res.writeHead(404).end();
      send(res, handle(route, undefined));
    };
    const awaiting = async (req: IncomingMessage, res: ServerResponse) => {
      await RESOLVED;
      doWork?.();
      plain(req, res);
    };
    if (spec.sessions === "floor") return { listener: floorListener(), close: closeStore };
    const listener =
      manager === undefined
        ? spec.ceiling === "async"
          ? (req: IncomingMessage, res: ServerResponse) => void awaiting(req, res)
          : plain
        : createNodeHandler(manager, (req, res, session) => {
            const route = routeOf(req.url);
            if (route === undefined) return void res.writeHead(404).end();
            send(res, handle(route, fromSessionkit(session)));
          });
    return { listener, close: closeStore };
  }

  if (spec.framework === "express") {
    const app = express();
    app.disable("x-powered-by");
    if (spec.sessions === "express-session" && spec.peer !== undefined) {
      const peer = await openPeerStore(names, spec.peer, tag);
      closeStore = peer.close;
      app.use(
        expressSession({
          store: peer.store,
          secret: SECRET,
          resave: false,
          saveUninitialized: false,
        }),
      );
    } else if (manager !== undefined) {
      const adapter = await importAdapter("@sessionkit/express");
      const middleware = adapter?.session as ((m: unknown) => express.RequestHandler) | undefined;
      if (middleware === undefined) throw new Error("@sessionkit/express is not available");
      app.use(middleware(manager));
    }
    const sessionOf = (req: Request): SessionLike | undefined => {
      const session = (req as unknown as { session?: unknown }).session;
      if (session === undefined) return undefined;
      return spec.sessions === "sessionkit"
        ? fromSessionkit(session as Session<BenchData>)
        : fromExpressSession(session as Record<string, unknown>);
    };
    const route = (name: Route) =>
      spec.ceiling === "async"
        ? async (req: Request, res: Response) => {
            await RESOLVED;
            res.type("application/json").send(handle(name, sessionOf(req)));
          }
        : (req: Request, res: Response) => {
            res.type("application/json").send(handle(name, sessionOf(req)));
          };
    app.post("/login", route("login"));
    app.get("/read", route("read"));
    app.post("/write", route("write"));
    // Requests aborted when a timed run ends keep running; once the app closes, their
    // store calls fail (the pool has ended): expected then, and only then.
    let closing = false;
    app.use((error: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
      if (!closing) console.error(error);
      if (!res.headersSent) res.status(500).end();
    });
    return {
      listener: app,
      quiet: () => {
        closing = true;
      },
      close: closeStore,
    };
  }

  const app = fastify();
  if (manager !== undefined) {
    const adapter = await importAdapter("@sessionkit/fastify");
    const plugin = adapter?.sessionPlugin;
    if (plugin === undefined) throw new Error("@sessionkit/fastify is not available");
    await app.register(plugin as Parameters<typeof app.register>[0], { manager });
  } else if (spec.sessions === "@fastify/session" && spec.peer !== undefined) {
    await app.register(fastifyCookie);
    let store: FastifySessionStore | undefined;
    if (spec.peer !== "memory") {
      const peer = await openPeerStore(names, spec.peer, tag);
      closeStore = peer.close;
      store = peer.store as unknown as FastifySessionStore;
    }
    await app.register(fastifySession, {
      secret: SECRET,
      cookie: { secure: false },
      saveUninitialized: false,
      ...(spec.rolling === undefined ? {} : { rolling: spec.rolling }),
      ...(store === undefined ? {} : { store }),
    });
  }
  const sessionOf = (request: unknown): SessionLike | undefined => {
    const session = (request as { session?: unknown }).session;
    if (session === undefined || session === null) return undefined;
    // @fastify/session's session has get(key) and set(key, value) itself.
    return spec.sessions === "sessionkit"
      ? fromSessionkit(session as Session<BenchData>)
      : (session as SessionLike);
  };
  const route = (name: Route) =>
    spec.ceiling === "async"
      ? async (request: unknown) => {
          await RESOLVED;
          return handle(name, sessionOf(request));
        }
      : async (request: unknown) => handle(name, sessionOf(request));
  app.post("/login", route("login"));
  app.get("/read", route("read"));
  app.post("/write", route("write"));
  await app.ready();
  return {
    listener: app.routing,
    fastify: app,
    close: async () => {
      await app.close();
      await closeStore();
    },
  };
}

/** Serves the app of `spec` over HTTP on a free port of 127.0.0.1. */
export async function startApp(spec: AppSpec, names: ServiceNames): Promise<RunningApp> {
  const built = await buildApp(spec, names);
  const { fastify: app } = built;
  if (app !== undefined) {
    track(app.server);
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    return {
      port,
      close: async () => {
        await drained();
        await built.close();
      },
    };
  }
  const server = createServer(built.listener);
  const port = await listen(server);
  const close = async () => {
    built.quiet?.();
    await closeServer(server);
    await built.close();
  };
  return { port, close };
}
