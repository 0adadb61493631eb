// Core's HTTP helpers log every failure once by default (console.error),
// never silently; an onError option replaces the default (issue 15).
import { Client, SCENARIO_SECRET } from "@sessionkit/adapter-scenarios";
import { createSessionManager, isSessionError, withSession } from "@sessionkit/core";
import { createNodeHandler } from "@sessionkit/core/node";
import { createMemoryStore } from "@sessionkit/store-memory";
import { afterEach, describe, expect, it, vi } from "vitest";
import { listen } from "./reference-app.js";

interface Data {
  blob?: string;
}

// A 256-byte payload cap: a larger write fails its commit with PAYLOAD_TOO_LARGE.
const manager = () =>
  createSessionManager<Data>({
    store: createMemoryStore({ gcIntervalMs: false }),
    secrets: [SCENARIO_SECRET],
    maxPayloadBytes: 256,
  });

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const close of closers.splice(0)) await close();
});

function silenceConsoleError() {
  return vi.spyOn(console, "error").mockImplementation(() => {});
}

function codeOf(error: unknown): string {
  return isSessionError(error) ? error.code : String(error);
}

describe("createNodeHandler", () => {
  const start = async (options?: { onError: (error: unknown) => void }) => {
    const app = await listen(
      createNodeHandler(
        manager(),
        async (req, res, session) => {
          if (req.url === "/throw") throw new Error("handler failed (test)");
          session.set("blob", "x".repeat(1000));
          res.end("ok");
        },
        options,
      ),
    );
    closers.push(() => app.close());
    return new Client(app.url);
  };

  it("logs a failed commit once with console.error by default", async () => {
    const logged = silenceConsoleError();
    const response = await (await start()).request("POST", "/too-big");
    expect(response.status).toBe(500);
    expect(logged).toHaveBeenCalledTimes(1);
    expect(codeOf(logged.mock.calls[0]?.[0])).toBe("PAYLOAD_TOO_LARGE");
  });

  it("logs a throwing handler once with console.error by default", async () => {
    const logged = silenceConsoleError();
    const response = await (await start()).request("POST", "/throw");
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("Internal Server Error");
    expect(logged).toHaveBeenCalledTimes(1);
    expect(String(logged.mock.calls[0]?.[0])).toBe("Error: handler failed (test)");
  });

  it("hands each failure once to onError instead of logging it", async () => {
    const logged = silenceConsoleError();
    const errors: unknown[] = [];
    const client = await start({ onError: (error) => errors.push(error) });
    expect((await client.request("POST", "/too-big")).status).toBe(500);
    expect((await client.request("POST", "/throw")).status).toBe(500);
    expect(errors.map(codeOf)).toEqual(["PAYLOAD_TOO_LARGE", "Error: handler failed (test)"]);
    expect(logged).not.toHaveBeenCalled();
  });
});

describe("withSession", () => {
  const handler = withSession(manager(), (_request, session) => {
    session.set("blob", "x".repeat(1000));
    return new Response("ok");
  });

  it("logs a failed commit once with console.error by default", async () => {
    const logged = silenceConsoleError();
    const response = await handler(new Request("http://localhost/", { method: "POST" }));
    expect(response.status).toBe(500);
    expect(logged).toHaveBeenCalledTimes(1);
    expect(codeOf(logged.mock.calls[0]?.[0])).toBe("PAYLOAD_TOO_LARGE");
  });

  it("hands a failed commit once to onError, with the request, instead of logging it", async () => {
    const logged = silenceConsoleError();
    const calls: [string, string][] = [];
    const request = new Request("http://localhost/cart", { method: "POST" });
    const response = await withSession(
      manager(),
      (_request, session) => {
        session.set("blob", "x".repeat(1000));
        return new Response("ok");
      },
      { onError: (error, failed) => calls.push([codeOf(error), failed.url]) },
    )(request);
    expect(response.status).toBe(500);
    expect(calls).toEqual([["PAYLOAD_TOO_LARGE", "http://localhost/cart"]]);
    expect(logged).not.toHaveBeenCalled();
  });
});
