// Session failures are reported once by default, never silently: thrown to
// Koa's error handling, whose default emits them as the app's error event
// (which Koa logs with console.error unless the app listens for it). onError
// is called as well when given (issue 15, issue 13).
import { Client, SCENARIO_SECRET } from "@sessionkit/adapter-scenarios";
import { createSessionManager, isSessionError } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import Koa from "koa";
import Koa2 from "koa2";
import { afterEach, describe, expect, it, vi } from "vitest";
import { session } from "../src/index.js";
import { listen } from "./listen.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const close of closers.splice(0)) await close();
});

function codeOf(error: unknown): string {
  return isSessionError(error) ? error.code : String(error);
}

describe.each([
  ["Koa 3", Koa],
  ["Koa 2", Koa2],
] as const)("%s", (_name, Framework) => {
  async function start(
    setUp: (app: Koa) => void,
    onError?: (error: unknown) => void,
  ): Promise<Client> {
    const app = new Framework();
    setUp(app);
    // A 256-byte payload cap: a larger write fails its commit with PAYLOAD_TOO_LARGE.
    const sessions = createSessionManager({
      store: createMemoryStore({ gcIntervalMs: false }),
      secrets: [SCENARIO_SECRET],
      maxPayloadBytes: 256,
    });
    app.use(session(sessions, onError === undefined ? {} : { onError }));
    app.use(async (ctx) => {
      ctx.session.set("blob", "x".repeat(1000));
      ctx.body = { ok: true };
    });
    const running = await listen(app);
    closers.push(() => running.close());
    return new Client(running.url);
  }

  it("logs a failed commit once with console.error by default (Koa's error logging), naming the cause", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await (await start(() => {})).request("POST", "/");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect(logged).toHaveBeenCalledTimes(1);
    // Koa prints the stack, whose first line names the SessionError behind it.
    expect(String(logged.mock.calls[0]?.[0])).toMatch(
      /^\n {2}SessionHttpError: Internal Server Error \(caused by SessionError \[PAYLOAD_TOO_LARGE\]: the session is \d+ bytes encoded; the limit \(maxPayloadBytes\) is 256\)\n/,
    );
  });

  it("emits a failed commit once as the app's error event by default", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const emitted: unknown[] = [];
    const response = await (
      await start((app) => app.on("error", (error: unknown) => emitted.push(error)))
    ).request("POST", "/");
    expect(response.status).toBe(500);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]).toMatchObject({ name: "SessionHttpError", status: 500, expose: false });
    expect(codeOf((emitted[0] as { cause?: unknown }).cause)).toBe("PAYLOAD_TOO_LARGE");
    expect(logged).not.toHaveBeenCalled();
  });

  it("hands a failed commit once to onError too; Koa's error event still gets the thrown error", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const errors: unknown[] = [];
    const emitted: unknown[] = [];
    const response = await (
      await start(
        (app) => app.on("error", (error: unknown) => emitted.push(error)),
        (error) => errors.push(error),
      )
    ).request("POST", "/");
    expect(response.status).toBe(500);
    expect(errors.map(codeOf)).toEqual(["PAYLOAD_TOO_LARGE"]);
    expect(emitted).toHaveLength(1);
    expect((emitted[0] as { cause?: unknown }).cause).toBe(errors[0]);
    expect(logged).not.toHaveBeenCalled();
  });
});
