// Koa-specific behaviour beyond the shared scenarios, on Koa 3 and Koa 2:
// failed commits, stream bodies, thrown HTTP errors, header merging, and
// responses written around Koa.
import { createRequire } from "node:module";
import { Readable } from "node:stream";
import { type RunningApp, SCENARIO_SECRET } from "@sessionkit/adapter-scenarios";
import { createSessionManager, type Session } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import Koa from "koa";
import Koa2 from "koa2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { session } from "../src/index.js";
import { listen } from "./listen.js";

declare module "../src/index.js" {
  interface KoaSessions {
    extra: Session<{ blob?: string; n?: number }>;
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

it("koa2 really is Koa 2 and koa is Koa 3", () => {
  const require = createRequire(import.meta.url);
  expect((require("koa2/package.json") as { version: string }).version).toMatch(/^2\./);
  expect((require("koa/package.json") as { version: string }).version).toMatch(/^3\./);
});

for (const [label, Framework] of [
  ["Koa 3", Koa],
  ["Koa 2", Koa2],
] as const) {
  describe(`session() on ${label}`, () => {
    let running: RunningApp;
    const errors: unknown[] = [];
    beforeAll(async () => {
      const app = new Framework();
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (error) {
          ctx.status = (error as { status?: number }).status ?? 500;
          ctx.body = ctx.status === 400 ? "Bad Request" : "Error";
        }
      });
      app.use(session(manager("__Host-sid"), { onError: (error) => errors.push(error) }));
      app.use(session(manager("__Host-extra"), { property: "extra", onError: () => {} }));
      app.use(async (ctx) => {
        switch (ctx.path) {
          case "/too-big":
            ctx.session.set("blob", "x".repeat(1000));
            ctx.append("Set-Cookie", "theme=dark; Path=/");
            ctx.body = { ok: true };
            return;
          case "/second-too-big":
            ctx.session.set("n", 1);
            ctx.extra.set("blob", "x".repeat(1000));
            ctx.body = { ok: true };
            return;
          case "/stream-too-big":
            ctx.session.set("blob", "x".repeat(1000));
            ctx.type = "text/plain";
            ctx.body = Readable.from(["part one, ", "part two"]);
            return;
          case "/bad-request":
            ctx.session.set("n", 1);
            ctx.throw(400, "bad input");
            return;
          case "/headers":
            ctx.session.set("n", 1);
            ctx.vary("Accept-Encoding");
            ctx.append("Set-Cookie", "a=1; Path=/");
            ctx.append("Set-Cookie", "b=2; Path=/");
            ctx.body = { ok: true };
            return;
          case "/raw":
            // Bypasses Koa's response: the session cannot be committed any more.
            ctx.session.set("n", 9);
            ctx.respond = false;
            ctx.res.end("raw");
            return;
          case "/state":
            ctx.body = { n: ctx.session.get("n") ?? null };
            return;
        }
      });
      running = await listen(app);
    });
    afterAll(async () => {
      await running.close();
    });
    const post = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${running.url}${path}`, { method: "POST", headers });

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

    it("a failed commit replaces a stream body without sending any of it (A24)", async () => {
      const response = await post("/stream-too-big");
      expect(response.status).toBe(500);
      expect(await response.text()).toBe("Internal Server Error");
    });

    it("a downstream ctx.throw(400) saves nothing and sets no cookie (A25)", async () => {
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

    it("the cookie is Secure over plain http, whatever X-Forwarded-Proto says (A36)", async () => {
      const response = await post("/headers", { "x-forwarded-proto": "http" });
      const [cookie] = response.headers.getSetCookie().filter((c) => c.startsWith("__Host-sid="));
      expect(cookie).toMatch(/; Secure/);
    });

    it("a response written directly to ctx.res saves nothing and reports why (A24)", async () => {
      errors.length = 0;
      const response = await post("/raw");
      expect(await response.text()).toBe("raw");
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(String(errors[0])).toMatch(/sent before ctx\.session was committed/);
    });
  });
}

it("session() without a manager throws a TypeError", () => {
  expect(() => session({} as never)).toThrow(TypeError);
});
