// Session failures are logged once by default, never silently: thrown to
// Fastify's error handling, whose default handler logs them through the app's
// logger; without a logger the adapter logs them with console.error. onError
// replaces the adapter's own logging (issue 15, issue 13).
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
    store: createMemoryStore({ gcIntervalMs: false }),
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

it("with a Fastify logger, a failed commit is logged once, by Fastify's error handler through request.log.error", async () => {
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  const lines: { level: number; msg: string; err?: { type?: string; message?: string } }[] = [];
  const stream = { write: (line: string) => lines.push(JSON.parse(line)) };
  const response = await (await start({ logger: { level: "error", stream } })).request(
    "POST",
    "/too-big",
  );
  expect(response.status).toBe(500);
  expect(lines.map(({ level, msg, err }) => ({ level, msg, type: err?.type }))).toEqual([
    { level: 50, msg: "Internal Server Error", type: "SessionHttpError" },
  ]);
  // pino prints the cause: the log says what failed.
  expect(lines[0]?.err?.message).toMatch(
    /^Internal Server Error: the session is \d+ bytes encoded; the limit \(maxPayloadBytes\) is 256$/,
  );
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
