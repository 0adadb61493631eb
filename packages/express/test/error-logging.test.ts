// Session failures are logged once by default (console.error), never
// silently; onError replaces the default. Handler errors stay with Express's
// error handlers (issue 15).
import { Client, SCENARIO_SECRET } from "@sessionkit/adapter-scenarios";
import { createSessionManager, isSessionError } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import express from "express";
import express4 from "express4";
import { afterEach, describe, expect, it, vi } from "vitest";
import { session } from "../src/index.js";
import { asyncRoute, type ExpressFactory, jsonErrorHandler, listen } from "./scenario-app.js";

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

describe.each([
  ["express 5", express, true],
  ["express 4", express4, false],
] as const)("%s", (_name, create: ExpressFactory, nativeAsync) => {
  async function start(options: { onError?: (error: unknown) => void }): Promise<Client> {
    const app = create();
    // A 256-byte payload cap: a larger write fails its commit with PAYLOAD_TOO_LARGE.
    const sessions = createSessionManager<Data>({
      store: createMemoryStore({ sweepIntervalMs: false }),
      secrets: [SCENARIO_SECRET],
      maxPayloadBytes: 256,
    });
    const main = session(sessions, options);
    app.use(main);
    app.post(
      "/too-big",
      asyncRoute(nativeAsync, async (req, res) => {
        main.from(req).set("blob", "x".repeat(1000));
        res.json({ ok: true });
      }),
    );
    app.post("/throw", () => {
      throw new Error("handler failed (test)");
    });
    app.use(jsonErrorHandler);
    const running = await listen(app);
    closers.push(() => running.close());
    return new Client(running.url);
  }

  it("logs a failed commit once with console.error by default", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await (await start({})).request("POST", "/too-big");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect(logged).toHaveBeenCalledTimes(1);
    expect(codeOf(logged.mock.calls[0]?.[0])).toBe("PAYLOAD_TOO_LARGE");
  });

  it("hands a failed commit once to onError instead of logging it", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const errors: unknown[] = [];
    const response = await (await start({ onError: (error) => errors.push(error) })).request(
      "POST",
      "/too-big",
    );
    expect(response.status).toBe(500);
    expect(errors.map(codeOf)).toEqual(["PAYLOAD_TOO_LARGE"]);
    expect(logged).not.toHaveBeenCalled();
  });

  it("leaves a handler's error to Express's error handlers: onError does not see it", async () => {
    const errors: unknown[] = [];
    const response = await (await start({ onError: (error) => errors.push(error) })).request(
      "POST",
      "/throw",
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "internal" });
    expect(errors).toEqual([]);
  });
});
