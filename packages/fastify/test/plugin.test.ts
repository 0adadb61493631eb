// Fastify-specific behaviour beyond the shared scenarios: failed commits,
// streams, thrown 4xx errors, header merging, trust proxy and encapsulation.
import { Readable } from "node:stream";
import { SCENARIO_SECRET } from "@sessionkit/adapter-scenarios";
import { createSessionManager, type Session } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionPlugin } from "../src/index.js";

declare module "../src/index.js" {
  interface FastifySessions {
    extra: Session<{ blob?: string }>;
  }
}

const store = createMemoryStore({ sweepIntervalMs: false });
const manager = (cookieName: string) =>
  createSessionManager<{ blob?: string; n?: number }>({
    store,
    secrets: [SCENARIO_SECRET],
    maxPayloadBytes: 256,
    cookie: { name: cookieName },
  });

let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  app = Fastify({ trustProxy: true });
  await app.register(sessionPlugin, { manager: manager("__Host-sid"), onError: () => {} });
  await app.register(sessionPlugin, {
    manager: manager("__Host-extra"),
    decorator: "extra",
    onError: () => {},
  });
  app.setErrorHandler(async (error: { statusCode?: number }, _request, reply) => {
    const status = error.statusCode ?? 500;
    return reply
      .code(status)
      .type("text/plain")
      .send(status === 400 ? "Bad Request" : "Error");
  });
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
  app.post("/bad-request", async (request) => {
    request.session.set("n", 1);
    throw Object.assign(new Error("bad input"), { statusCode: 400 });
  });
  app.post("/headers", async (request, reply) => {
    request.session.set("n", 1);
    reply.header("vary", "Accept-Encoding");
    reply.header("set-cookie", ["a=1; Path=/", "b=2; Path=/"]);
    return { ok: true };
  });
  app.get("/state", async (request) => ({ n: request.session.get("n") ?? null }));
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

describe("sessionPlugin", () => {
  it("a failed commit answers a bare 500 and drops every Set-Cookie (A24, A28, A39)", async () => {
    const response = await post("/too-big");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("cache-control")).toBe("no-store");
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

  it("a handler throwing a 4xx error saves nothing and sets no cookie (A25)", async () => {
    const response = await post("/bad-request");
    expect(response.status).toBe(400);
    expect(await response.text()).toBe("Bad Request");
    expect(response.headers.getSetCookie()).toEqual([]);
  });

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

  it("routes of encapsulated child plugins get request.session (skip-override)", async () => {
    const response = await post("/child");
    expect(response.status).toBe(200);
    const cookie = response.headers.getSetCookie()[0]?.split(";")[0] ?? "";
    const state = await fetch(`${url}/state`, { headers: { cookie } });
    expect(await state.json()).toEqual({ n: 2 });
  });

  it("registering a manager without a SessionManager fails at start-up", async () => {
    const broken = Fastify();
    await expect(broken.register(sessionPlugin, { manager: {} as never }).ready()).rejects.toThrow(
      TypeError,
    );
  });
});
