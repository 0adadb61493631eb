// Session failures are logged once by default, never silently: through the
// app's logger when Fastify has one, else console.error; onError replaces the
// default (issue 15).
import { Client, SCENARIO_SECRET } from "@sessionkit/adapter-scenarios";
import { createSessionManager, isSessionError } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import Fastify, { type FastifyServerOptions } from "fastify";
import { afterEach, expect, it, vi } from "vitest";
import { sessionPlugin } from "../src/index.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const close of closers.splice(0)) await close();
});

function codeOf(error: unknown): string {
  return isSessionError(error) ? error.code : String(error);
}

async function start(
  fastifyOptions: FastifyServerOptions,
  onError?: (error: unknown) => void,
): Promise<Client> {
  const app = Fastify(fastifyOptions);
  // A 256-byte payload cap: a larger write fails its commit with PAYLOAD_TOO_LARGE.
  const manager = createSessionManager({
    store: createMemoryStore({ sweepIntervalMs: false }),
    secrets: [SCENARIO_SECRET],
    maxPayloadBytes: 256,
  });
  await app.register(sessionPlugin, onError === undefined ? { manager } : { manager, onError });
  app.post("/too-big", async (request) => {
    request.session.set("blob", "x".repeat(1000));
    return { ok: true };
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  closers.push(() => app.close());
  return new Client(url);
}

it("without a Fastify logger, logs a failed commit once with console.error by default", async () => {
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  const response = await (await start({})).request("POST", "/too-big");
  expect(response.status).toBe(500);
  expect(logged).toHaveBeenCalledTimes(1);
  expect(codeOf(logged.mock.calls[0]?.[0])).toBe("PAYLOAD_TOO_LARGE");
});

it("with a Fastify logger, logs a failed commit once through request.log.error by default", async () => {
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  const lines: { level: number; msg: string; err?: { code?: string } }[] = [];
  const stream = { write: (line: string) => lines.push(JSON.parse(line)) };
  const response = await (await start({ logger: { level: "error", stream } })).request(
    "POST",
    "/too-big",
  );
  expect(response.status).toBe(500);
  expect(lines.map(({ level, msg, err }) => ({ level, msg, code: err?.code }))).toEqual([
    { level: 50, msg: '@sessionkit/fastify: "session" session failed', code: "PAYLOAD_TOO_LARGE" },
  ]);
  expect(logged).not.toHaveBeenCalled();
});

it("hands a failed commit once to onError instead of logging it", async () => {
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  const errors: unknown[] = [];
  const response = await (await start({}, (error) => errors.push(error))).request(
    "POST",
    "/too-big",
  );
  expect(response.status).toBe(500);
  expect(errors.map(codeOf)).toEqual(["PAYLOAD_TOO_LARGE"]);
  expect(logged).not.toHaveBeenCalled();
});
