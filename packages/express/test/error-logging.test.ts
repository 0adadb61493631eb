// Session failures are reported once by default, never silently: a failed
// commit (after the handler answered) with console.error, Express having no
// logger; a failed load through next(err) to Express's error handling, which
// reports it. onError replaces the default. Handler errors stay with
// Express's error handlers (issue 15, issue 13).
import { Client, SCENARIO_SECRET } from "@sessionkit/adapter-scenarios";
import { createSessionManager, isSessionError, type SessionStore } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { createSqliteStore } from "@sessionkit/store-sqlite";
import express, { type ErrorRequestHandler } from "express";
import express4 from "express4";
import { afterEach, describe, expect, it, vi } from "vitest";
import { session, sessionErrors } from "../src/index.js";
import { appErrorHandler, asyncRoute, type ExpressFactory, listen } from "./scenario-app.js";

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

/** A SQLite store whose database is closed: every operation fails with STORE_UNAVAILABLE. */
async function downStore(): Promise<SessionStore> {
  const store = createSqliteStore({ url: "sqlite::memory:", gcIntervalMs: false });
  await store.close();
  return store;
}

describe.each([
  ["express 5", express, true],
  ["express 4", express4, false],
] as const)("%s", (_name, create: ExpressFactory, nativeAsync) => {
  async function start(
    options: { onError?: (error: unknown) => void },
    store: SessionStore = createMemoryStore({ gcIntervalMs: false }),
  ): Promise<{ client: Client; handled: unknown[] }> {
    const app = create();
    // A 256-byte payload cap: a larger write fails its commit with PAYLOAD_TOO_LARGE.
    const sessions = createSessionManager<Data>({
      store,
      secrets: [SCENARIO_SECRET],
      maxPayloadBytes: 256,
    });
    const main = session(sessions, options);
    app.use(main);
    app.post(
      "/small",
      asyncRoute(nativeAsync, async (req, res) => {
        main.from(req).set("blob", "x");
        res.json({ ok: true });
      }),
    );
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
    app.use(sessionErrors());
    const handled: unknown[] = [];
    const record: ErrorRequestHandler = (error, _req, _res, next) => {
      handled.push(error);
      next(error);
    };
    app.use(record, appErrorHandler);
    const running = await listen(app);
    closers.push(() => running.close());
    return { client: new Client(running.url), handled };
  }

  it("logs a failed commit once with console.error by default", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const { client, handled } = await start({});
    const response = await client.request("POST", "/too-big");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect(logged).toHaveBeenCalledTimes(1);
    expect(codeOf(logged.mock.calls[0]?.[0])).toBe("PAYLOAD_TOO_LARGE");
    // The handler had answered: the commit failure cannot reach next(err) any more.
    expect(handled).toEqual([]);
  });

  it("hands a failed commit once to onError instead of logging it", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const errors: unknown[] = [];
    const { client } = await start({ onError: (error) => errors.push(error) });
    const response = await client.request("POST", "/too-big");
    expect(response.status).toBe(500);
    expect(errors.map(codeOf)).toEqual(["PAYLOAD_TOO_LARGE"]);
    expect(logged).not.toHaveBeenCalled();
  });

  it("passes a failed load to the app's error handler once and does not log it itself by default", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const healthy = await start({});
    await healthy.client.json("POST", "/small");
    const { client, handled } = await start({}, await downStore());
    const response = await client.request("POST", "/small", healthy.client.cookieHeader);
    expect(response.status).toBe(503);
    expect(handled).toHaveLength(1);
    expect(codeOf((handled[0] as { cause?: unknown }).cause)).toBe("STORE_UNAVAILABLE");
    expect(logged).not.toHaveBeenCalled();
  });

  it("hands a failed load to onError once as well as to the app's error handler", async () => {
    const errors: unknown[] = [];
    const healthy = await start({});
    await healthy.client.json("POST", "/small");
    const { client, handled } = await start(
      { onError: (error) => errors.push(error) },
      await downStore(),
    );
    const response = await client.request("POST", "/small", healthy.client.cookieHeader);
    expect(response.status).toBe(503);
    expect(errors.map(codeOf)).toEqual(["STORE_UNAVAILABLE"]);
    expect((handled[0] as { cause?: unknown }).cause).toBe(errors[0]);
  });

  it("leaves a handler's error to Express's error handlers: onError does not see it", async () => {
    const errors: unknown[] = [];
    const { client, handled } = await start({ onError: (error) => errors.push(error) });
    const response = await client.request("POST", "/throw");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect(errors).toEqual([]);
    expect(String(handled[0])).toBe("Error: handler failed (test)");
  });
});
