// Hono-specific behaviour beyond the shared scenarios: failed commits,
// streams, thrown HTTP errors, immutable headers, header merging.
import { type RunningApp, SCENARIO_SECRET } from "@sessionkit/adapter-scenarios";
import { createSessionManager } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { stream } from "hono/streaming";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SessionVariables, sessionMiddleware } from "../src/index.js";
import { listen } from "./listen.js";

interface Data {
  blob?: string;
  n?: number;
}
const store = createMemoryStore({ sweepIntervalMs: false });
const manager = (cookieName: string) =>
  createSessionManager<Data>({
    store,
    secrets: [SCENARIO_SECRET],
    maxPayloadBytes: 256,
    cookie: { name: cookieName },
  });

type Env = { Variables: SessionVariables<"session", Data> & SessionVariables<"extra", Data> };
let running: RunningApp;
const errors: unknown[] = [];

beforeAll(async () => {
  const app = new Hono<Env>();
  app.use(sessionMiddleware(manager("__Host-sid"), { onError: (error) => errors.push(error) }));
  app.use(sessionMiddleware(manager("__Host-extra"), { variable: "extra", onError: () => {} }));
  app.onError((error, c) =>
    error instanceof HTTPException ? error.getResponse() : c.text("Error", 500),
  );
  app.post("/too-big", (c) => {
    c.get("session").set("blob", "x".repeat(1000));
    c.header("Set-Cookie", "theme=dark; Path=/", { append: true });
    return c.json({ ok: true });
  });
  app.post("/second-too-big", (c) => {
    c.get("session").set("n", 1);
    c.get("extra").set("blob", "x".repeat(1000));
    return c.json({ ok: true });
  });
  app.post("/stream-too-big", (c) => {
    c.get("session").set("blob", "x".repeat(1000));
    return stream(c, async (s) => {
      await s.write("part one, ");
      await s.write("part two");
    });
  });
  app.post("/bad-request", (c) => {
    c.get("session").set("n", 1);
    throw new HTTPException(400, { message: "Bad Request" });
  });
  app.post("/headers", (c) => {
    c.get("session").set("n", 1);
    c.header("Vary", "Accept-Encoding");
    c.header("Set-Cookie", "a=1; Path=/", { append: true });
    c.header("Set-Cookie", "b=2; Path=/", { append: true });
    return c.json({ ok: true });
  });
  app.post("/redirect", (c) => {
    c.get("session").set("n", 3);
    // Response.redirect() has immutable headers.
    return Response.redirect("https://example.com/next", 303);
  });
  app.get("/state", (c) => c.json({ n: c.get("session").get("n") ?? null }));
  running = await listen(app.fetch);
});
afterAll(async () => {
  await running.close();
});

const post = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${running.url}${path}`, { method: "POST", headers, redirect: "manual" });

describe("sessionMiddleware", () => {
  it("a failed commit answers a bare 500, drops every Set-Cookie and reports the error (A24, A28, A39)", async () => {
    errors.length = 0;
    const response = await post("/too-big");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(errors).toMatchObject([{ code: "PAYLOAD_TOO_LARGE" }]);
  });

  it("a failed commit of the second session sends no cookie of the first (A24, A10)", async () => {
    const response = await post("/second-too-big");
    expect(response.status).toBe(500);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("a failed commit replaces a streamed response without sending any of it (A24)", async () => {
    const response = await post("/stream-too-big");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
  });

  it("a handler throwing an HTTPException saves nothing and sets no cookie (A25)", async () => {
    const response = await post("/bad-request");
    expect(response.status).toBe(400);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("other Set-Cookie headers are kept and Vary is merged (A10, A37)", async () => {
    const response = await post("/headers");
    const cookies = response.headers.getSetCookie();
    expect(cookies.slice(0, 2)).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(cookies.filter((c) => c.startsWith("__Host-sid="))).toHaveLength(1);
    expect(response.headers.get("vary")).toBe("Accept-Encoding, Cookie");
  });

  it("a response with immutable headers still gets the session cookie", async () => {
    const response = await post("/redirect");
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("https://example.com/next");
    const cookie = response.headers.getSetCookie()[0]?.split(";")[0] ?? "";
    expect(cookie).toMatch(/^__Host-sid=/);
    const state = await fetch(`${running.url}/state`, { headers: { cookie } });
    expect(await state.json()).toEqual({ n: 3 });
  });

  it("the cookie is Secure over plain http, whatever X-Forwarded-Proto says (A36)", async () => {
    const response = await post("/headers", { "x-forwarded-proto": "http" });
    const [cookie] = response.headers.getSetCookie().filter((c) => c.startsWith("__Host-sid="));
    expect(cookie).toMatch(/; Secure/);
  });

  it("sessionMiddleware() without a manager throws a TypeError", () => {
    expect(() => sessionMiddleware({} as never)).toThrow(TypeError);
  });
});
