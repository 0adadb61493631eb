// Fastify-specific behaviour beyond the shared scenarios: failures through
// Fastify's error handler, streams, thrown 4xx errors, the commit rule,
// header merging, trust proxy, encapsulation and registration checks.
import { STATUS_CODES } from "node:http";
import { Readable } from "node:stream";
import { SCENARIO_SECRET } from "@sessionkit/adapter-scenarios";
import {
  createSessionManager,
  ErrorCode,
  isSessionError,
  type Session,
  SessionError,
  type SessionStore,
} from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionPlugin } from "../src/index.js";

// A type literal, not an interface: the default session is typed with the
// scenario data (an index signature), which an interface would not satisfy.
type Data = { blob?: string; n?: number };

declare module "../src/index.js" {
  interface FastifySessions {
    extra: Session<Data>;
  }
}

const store = createMemoryStore({ gcIntervalMs: false });
const manager = (cookieName: string, sessionStore: SessionStore = store) =>
  createSessionManager<Data>({
    store: sessionStore,
    secrets: [SCENARIO_SECRET],
    maxPayloadBytes: 256,
    cookie: { name: cookieName },
  });

/** The store, except that reads fail as if its server were down. */
function failingReads(inner: SessionStore): SessionStore {
  return Object.assign(Object.create(inner) as SessionStore, {
    get: async () => {
      throw new SessionError(ErrorCode.STORE_UNAVAILABLE, "store down at 10.0.0.7 (test)");
    },
  });
}

let app: FastifyInstance;
let url: string;
/** What the app's error handler was handed, by request URL. */
const handled = new Map<string, unknown>();

/** An error handler like a real app's: the error's status with its status text, no details. */
function errorHandler(target: FastifyInstance): void {
  target.setErrorHandler(async (error: { statusCode?: number }, request, reply) => {
    handled.set(request.url, error);
    const status = error.statusCode ?? 500;
    return reply.code(status).type("text/plain").send(STATUS_CODES[status]);
  });
}

beforeAll(async () => {
  app = Fastify({ trustProxy: true });
  await app.register(sessionPlugin, { manager: manager("__Host-sid"), onError: () => {} });
  await app.register(sessionPlugin, {
    manager: manager("__Host-extra"),
    sessionName: "extra",
    onError: () => {},
  });
  errorHandler(app);
  app.post("/too-big", async (request, reply) => {
    request.session.set("blob", "x".repeat(1000));
    reply.header("set-cookie", "theme=dark; Path=/");
    return { ok: true };
  });
  app.post("/second-too-big", async (request) => {
    request.session.set("n", 1);
    request.extra.set("blob", "x".repeat(1000));
    return { ok: true };
  });
  app.post("/stream-too-big", async (request, reply) => {
    request.session.set("blob", "x".repeat(1000));
    return reply.type("text/plain").send(Readable.from(["part one, ", "part two"]));
  });
  app.post("/seed", async (request) => {
    request.session.set("n", 1);
    return { ok: true };
  });
  app.post("/bad-request", async (request) => {
    request.session.set("n", 2);
    throw Object.assign(new Error("bad input"), { statusCode: 400 });
  });
  app.post("/logout-503", async (request, reply) => {
    request.session.destroy();
    return reply.code(503).send({ error: "unavailable" });
  });
  app.post("/discard", async (request, reply) => {
    request.session.set("n", 3).discard();
    return reply.code(422).send({ error: "invalid form" });
  });
  app.post("/headers", async (request, reply) => {
    request.session.set("n", 1);
    reply.header("vary", "Accept-Encoding");
    reply.header("set-cookie", ["a=1; Path=/", "b=2; Path=/"]);
    return { ok: true };
  });
  app.get("/state", async (request) => ({ n: request.session.get("n") ?? null }));
  const ours = (target: object) =>
    Object.getOwnPropertySymbols(target)
      .map(String)
      .filter((name) => name.includes("sessionkit"));
  app.get("/own-properties", async (request) => ({
    request: ours(request),
    raw: ours(request.raw),
  }));
  // A child plugin (encapsulated) still sees the decoration: it is app-wide.
  app.register((child, _options, done) => {
    child.post("/child", async (request) => {
      request.session.set("n", 2);
      return { child: true };
    });
    done();
  });
  url = await app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await app.close();
});

const post = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, { method: "POST", headers });
const cookieOf = (response: Response): string =>
  response.headers.getSetCookie()[0]?.split(";")[0] ?? "";
const stateOf = async (cookie: string) =>
  (await fetch(`${url}/state`, { headers: { cookie } })).json();

describe("sessionPlugin: failures go through Fastify's error handler", () => {
  it("a failed commit reaches the app's error handler as a SessionHttpError and drops every Set-Cookie (A24, A28, A39)", async () => {
    const response = await post("/too-big");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect(response.headers.getSetCookie()).toEqual([]);
    const error = handled.get("/too-big") as { cause?: unknown };
    expect(error).toMatchObject({
      name: "SessionHttpError",
      message: "Internal Server Error",
      statusCode: 500,
      expose: false,
    });
    expect(isSessionError(error.cause) && error.cause.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("a failed commit of the second session sends no cookie of the first (A24, A10)", async () => {
    const response = await post("/second-too-big");
    expect(response.status).toBe(500);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("a failed commit replaces a stream payload without sending any of it (A24)", async () => {
    const response = await post("/stream-too-big");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
  });

  it("a failed load reaches the app's error handler as a 503 and the route never runs (A30, A39)", async () => {
    const cookie = cookieOf(await post("/seed"));
    const broken = Fastify();
    await broken.register(sessionPlugin, {
      manager: manager("__Host-sid", failingReads(store)),
      onError: () => {},
    });
    errorHandler(broken);
    let routeRan = false;
    broken.get("/broken", async () => {
      routeRan = true;
      return { ok: true };
    });
    const response = await broken.inject({ method: "GET", url: "/broken", headers: { cookie } });
    await broken.close();
    expect(response.statusCode).toBe(503);
    expect(response.body).toBe("Service Unavailable");
    expect(routeRan).toBe(false);
    const error = handled.get("/broken") as { cause?: unknown };
    expect(error).toMatchObject({ statusCode: 503, expose: false });
    expect(isSessionError(error.cause) && error.cause.code).toBe("STORE_UNAVAILABLE");
  });

  it("an onError that throws on a failed load still fails only the request, through Fastify's error handling (A30)", async () => {
    const cookie = cookieOf(await post("/seed"));
    const broken = Fastify();
    await broken.register(sessionPlugin, {
      manager: manager("__Host-sid", failingReads(store)),
      onError: () => {
        throw new Error("the app's logger is down (test)");
      },
    });
    errorHandler(broken);
    broken.get("/logger-down", async () => ({ ok: true }));
    const response = await broken.inject({
      method: "GET",
      url: "/logger-down",
      headers: { cookie },
    });
    await broken.close();
    expect(response.statusCode).toBe(500);
    expect(response.body).toBe("Internal Server Error");
    expect(String(handled.get("/logger-down"))).toContain("the app's logger is down (test)");
  });

  it("an onError that throws on a failed commit fails only the request, through Fastify's error handling, and sends none of the reply (A24, A30)", async () => {
    const broken = Fastify();
    await broken.register(sessionPlugin, {
      manager: manager("__Host-sid"),
      onError: () => {
        throw new Error("the app's logger is down (test)");
      },
    });
    errorHandler(broken);
    broken.post("/too-big-logger-down", async (request, reply) => {
      request.session.set("blob", "x".repeat(1000));
      reply.header("set-cookie", "theme=dark; Path=/");
      return { secret: "page content" };
    });
    const response = await broken.inject({ method: "POST", url: "/too-big-logger-down" });
    await broken.close();
    expect(response.statusCode).toBe(500);
    expect(response.body).toBe("Internal Server Error");
    expect(response.headers["set-cookie"]).toBeUndefined();
    expect(String(handled.get("/too-big-logger-down"))).toContain(
      "the app's logger is down (test)",
    );
  });

  it("Fastify's default error handler answers a failed load without details (A39)", async () => {
    const cookie = cookieOf(await post("/seed"));
    const broken = Fastify();
    await broken.register(sessionPlugin, {
      manager: manager("__Host-sid", failingReads(store)),
      onError: () => {},
    });
    broken.get("/", async () => ({ ok: true }));
    const response = await broken.inject({ method: "GET", url: "/", headers: { cookie } });
    await broken.close();
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({
      statusCode: 503,
      error: "Service Unavailable",
      message: "Service Unavailable",
    });
    expect(response.headers["cache-control"]).toBe("no-store");
  });
});

describe("sessionPlugin: commit unless the handler threw", () => {
  it("a handler throwing a 4xx error saves nothing and sets no cookie (A25)", async () => {
    const cookie = cookieOf(await post("/seed"));
    const response = await post("/bad-request", { cookie });
    expect(response.status).toBe(400);
    expect(await response.text()).toBe("Bad Request");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await stateOf(cookie)).toEqual({ n: 1 });
  });

  it("a handler answering 503 after destroy(), without throwing, destroys the session (A17, A25)", async () => {
    const cookie = cookieOf(await post("/seed"));
    const response = await post("/logout-503", { cookie });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: "unavailable" });
    expect(response.headers.getSetCookie()).toEqual([
      expect.stringMatching(/^__Host-sid=; Path=\/; Max-Age=0;/),
    ]);
    expect(await stateOf(cookie)).toEqual({ n: null });
  });

  it("session.discard() drops the request's changes", async () => {
    const cookie = cookieOf(await post("/seed"));
    const response = await post("/discard", { cookie });
    expect(response.status).toBe(422);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await stateOf(cookie)).toEqual({ n: 1 });
  });
});

describe("sessionPlugin: headers and scope", () => {
  it("other Set-Cookie headers are kept and Vary is merged (A10, A37)", async () => {
    const response = await post("/headers");
    expect(response.status).toBe(200);
    const cookies = response.headers.getSetCookie();
    expect(cookies.slice(0, 2)).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(cookies.filter((c) => c.startsWith("__Host-sid="))).toHaveLength(1);
    expect(response.headers.get("vary")).toBe("Accept-Encoding, Cookie");
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("the cookie is Secure over plain http, whatever X-Forwarded-Proto says, with trustProxy on (A36)", async () => {
    const response = await post("/headers", { "x-forwarded-proto": "http" });
    const [cookie] = response.headers.getSetCookie().filter((c) => c.startsWith("__Host-sid="));
    expect(cookie).toMatch(/; Secure/);
  });

  it("two sessions add no property to Fastify's request: both are kept where the manager keeps them, on request.raw", async () => {
    const response = await fetch(`${url}/own-properties`);
    expect(await response.json()).toEqual({ request: [], raw: ["Symbol(sessionkit.slots)"] });
  });

  it("routes of encapsulated child plugins get request.session (skip-override)", async () => {
    const response = await post("/child");
    expect(response.status).toBe(200);
    expect(await stateOf(cookieOf(response))).toEqual({ n: 2 });
  });
});

describe("sessionPlugin: registration", () => {
  it("a manager that is not a SessionManager fails at start-up with a TypeError", async () => {
    const broken = Fastify();
    await expect(broken.register(sessionPlugin, { manager: {} as never }).ready()).rejects.toThrow(
      new TypeError(
        "@sessionkit/fastify: pass a SessionManager from createSessionManager() (got object)",
      ),
    );
  });

  it("a sessionName that is not an identifier fails at start-up with INVALID_CONFIG", async () => {
    const broken = Fastify();
    await expect(
      broken
        .register(sessionPlugin, {
          manager: manager("__Host-x"),
          sessionName: "__proto__" as never,
        })
        .ready(),
    ).rejects.toMatchObject({ code: "INVALID_CONFIG" });
  });

  it("two managers on one sessionName fail at start-up instead of shadowing each other", async () => {
    const twice = Fastify();
    await twice.register(sessionPlugin, { manager: manager("__Host-a") });
    await expect(
      twice.register(sessionPlugin, { manager: manager("__Host-b") }).ready(),
    ).rejects.toMatchObject({ code: "FST_ERR_DEC_ALREADY_PRESENT" });
  });
});
