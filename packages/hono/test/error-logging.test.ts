// Session failures are logged once by default (console.error), never
// silently; onError replaces the default (issue 15).
import { Client, SCENARIO_SECRET } from "@sessionkit/adapter-scenarios";
import { createSessionManager, isSessionError } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { Hono } from "hono";
import { afterEach, expect, it, vi } from "vitest";
import { type SessionVariables, sessionMiddleware } from "../src/index.js";
import { listen } from "./listen.js";

interface Data {
  blob?: string;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const close of closers.splice(0)) await close();
});

function codeOf(error: unknown): string {
  return isSessionError(error) ? error.code : String(error);
}

async function start(onError?: (error: unknown) => void): Promise<Client> {
  const app = new Hono<{ Variables: SessionVariables<"session", Data> }>();
  // A 256-byte payload cap: a larger write fails its commit with PAYLOAD_TOO_LARGE.
  const sessions = createSessionManager<Data>({
    store: createMemoryStore({ gcIntervalMs: false }),
    secrets: [SCENARIO_SECRET],
    maxPayloadBytes: 256,
  });
  app.use(sessionMiddleware(sessions, onError === undefined ? {} : { onError }));
  app.post("/too-big", (c) => {
    c.get("session").set("blob", "x".repeat(1000));
    return c.json({ ok: true });
  });
  const running = await listen(app.fetch);
  closers.push(() => running.close());
  return new Client(running.url);
}

it("logs a failed commit once with console.error by default", async () => {
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  const response = await (await start()).request("POST", "/too-big");
  expect(response.status).toBe(500);
  expect(logged).toHaveBeenCalledTimes(1);
  expect(codeOf(logged.mock.calls[0]?.[0])).toBe("PAYLOAD_TOO_LARGE");
});

it("hands a failed commit once to onError instead of logging it", async () => {
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  const errors: unknown[] = [];
  const response = await (await start((error) => errors.push(error))).request("POST", "/too-big");
  expect(response.status).toBe(500);
  expect(errors.map(codeOf)).toEqual(["PAYLOAD_TOO_LARGE"]);
  expect(logged).not.toHaveBeenCalled();
});
