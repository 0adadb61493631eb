// Without sessionErrors() the adapter cannot see a thrown error: its
// documented fallback saves nothing for any 5xx response and warns once
// through onError; other responses commit. A file of its own: sessionErrors()
// must never have been created in this module graph.
import { Client, type RunningApp, SCENARIO_SECRET } from "@sessionkit/adapter-scenarios";
import { createSessionManager } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import express from "express";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { session } from "../src/index.js";
import { appErrorHandler, listen } from "./scenario-app.js";

let running: RunningApp;
const store = createMemoryStore({ gcIntervalMs: false });
const reported: unknown[] = [];

beforeAll(async () => {
  const app = express();
  const sessions = createSessionManager<{ cart?: string[] }>({
    store,
    secrets: [SCENARIO_SECRET],
  });
  app.use(session(sessions, { onError: (error) => reported.push(error) }));
  app.post("/add", (req, res) => {
    req.session.set("cart", ["apple"]);
    res.json({ ok: true });
  });
  app.post("/throw", (req) => {
    req.session.set("cart", ["poisoned"]);
    throw new Error("handler failed (test)");
  });
  app.post("/logout-503", (req, res) => {
    req.session.destroy();
    res.status(503).json({ error: "unavailable" });
  });
  app.post("/logout-writehead-503", (req, res) => {
    req.session.destroy();
    res.writeHead(503, { "Content-Type": "text/plain" }).end("unavailable");
  });
  app.post("/invalid", (req, res) => {
    req.session.set("cart", ["kept"]);
    res.status(422).json({ error: "invalid" });
  });
  app.get("/state", (req, res) => {
    res.json(req.session.toJSON());
  });
  app.use(appErrorHandler);
  running = await listen(app);
});
afterAll(async () => {
  await running.close();
});

it("a thrown error answered 500 saves nothing, and the first 5xx warns once through onError (A25)", async () => {
  const browser = new Client(running.url);
  await browser.json("POST", "/add");
  const failed = await browser.request("POST", "/throw");
  expect(failed.status).toBe(500);
  expect(failed.headers.getSetCookie()).toEqual([]);
  expect(await browser.json("GET", "/state")).toEqual({ cart: ["apple"] });
  expect(reported).toHaveLength(1);
  expect(String(reported[0])).toMatch(
    /a 500 response went out and sessionErrors\(\) is not installed, so its session changes were not saved/,
  );
});

it.each([
  ["res.status(503).json()", "/logout-503"],
  ["res.writeHead(503).end(), seen before the commit too", "/logout-writehead-503"],
])(
  "a 503 the handler answered itself after destroy() is not saved either (%s): the session survives",
  async (_how, route) => {
    const browser = new Client(running.url);
    await browser.json("POST", "/add");
    const response = await browser.request("POST", route);
    expect(response.status).toBe(503);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await browser.json("GET", "/state")).toEqual({ cart: ["apple"] });
    // Warned once per process, not per response.
    expect(reported).toHaveLength(1);
  },
);

it("a 4xx answer commits as any other response", async () => {
  const browser = new Client(running.url);
  await browser.json("POST", "/add");
  expect((await browser.request("POST", "/invalid")).status).toBe(422);
  expect(await browser.json("GET", "/state")).toEqual({ cart: ["kept"] });
});

it("warns with console.error when the app gave no onError", async () => {
  // A fresh module graph: the once-per-process warning has not been given there.
  vi.resetModules();
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  const { session: freshSession } = await import("../src/index.js");
  const app = express();
  app.use(
    freshSession(
      createSessionManager({
        store: createMemoryStore({ gcIntervalMs: false }),
        secrets: [SCENARIO_SECRET],
      }),
    ),
  );
  app.post("/fail", (_req, res) => {
    res.status(500).end("no");
  });
  const fresh = await listen(app);
  try {
    expect((await new Client(fresh.url).request("POST", "/fail")).status).toBe(500);
    expect(logged).toHaveBeenCalledTimes(1);
    expect(String(logged.mock.calls[0]?.[0])).toMatch(/sessionErrors\(\) is not installed/);
  } finally {
    logged.mockRestore();
    await fresh.close();
  }
});
