// The shared HTTP scenarios on Fastify 5, over real sockets, on every store.
import { STATUS_CODES } from "node:http";
import {
  type AppContext,
  describeAdapterScenarios,
  destroyThenUnavailable,
  discardChanges,
  httpError,
  type PrefsData,
  prepareThrow,
  type ScenarioData,
  slowSet,
} from "@sessionkit/adapter-scenarios";
import type { Session } from "@sessionkit/core";
import Fastify from "fastify";
import { sessionPlugin } from "../src/index.js";

declare module "../src/index.js" {
  interface FastifySessions {
    session: Session<ScenarioData>;
    prefs: Session<PrefsData>;
  }
}

/** The status an error asks for (`statusCode` 4xx/5xx), else 500. */
function statusOf(error: unknown): number {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" && status >= 400 && status <= 599 ? status : 500;
}

export async function startFastify({ sessions, prefs, gates, onError }: AppContext) {
  const app = Fastify({ logger: false });
  await app.register(sessionPlugin, { manager: sessions, onError });
  await app.register(sessionPlugin, { manager: prefs, sessionName: "prefs", onError });
  // What a real app installs: an error answers its status with the status text, no details.
  app.setErrorHandler(async (error, _request, reply) => {
    const status = statusOf(error);
    return reply.code(status).type("text/plain").send(STATUS_CODES[status]);
  });

  app.get("/state", async (request) => ({
    isNew: request.session.isNew,
    userId: request.session.userId ?? null,
    data: request.session.toJSON(),
  }));
  app.post<{ Querystring: { user: string } }>("/login", async (request, reply) => {
    const user = request.query.user;
    request.session.regenerate().setUser(user).set("user", user);
    reply.header("set-cookie", "theme=dark; Path=/");
    reply.header("set-cookie", "lang=en; Path=/");
    return { ok: true };
  });
  app.post<{ Querystring: { item: string } }>("/cart", async (request) => {
    const cart = [...(request.session.get("cart") ?? []), request.query.item];
    request.session.set("cart", cart);
    return { cart };
  });
  app.post<{ Querystring: { key: string; value: string } }>("/set", async (request) => {
    request.session.set(request.query.key, request.query.value);
    return { ok: true };
  });
  app.post<{ Querystring: { key: string; value: string; gate: string; commit?: string } }>(
    "/slow-set",
    async (request) => slowSet(request.session, gates, request.query),
  );
  app.post("/logout", async (request) => {
    request.session.destroy();
    return { ok: true };
  });
  app.post("/logout-others", async (request) => ({
    destroyed: await request.session.destroyOtherSessions(),
  }));
  app.post("/logout-unavailable", async (request, reply) => {
    const { status, body } = destroyThenUnavailable(request.session);
    return reply.code(status).send(body);
  });
  app.post<{ Querystring: { key: string; value: string } }>("/discard", async (request) =>
    discardChanges(request.session, request.query),
  );
  app.post("/throw", async (request) => {
    request.session.set("poisoned", true);
    throw new Error("handler failed at /srv/app/secret.js");
  });
  app.post<{ Querystring: { status: string; gate: string } }>("/throw-status", async (request) => {
    throw httpError(await prepareThrow(request.session, gates, request.query));
  });
  app.get("/prefs", async (request) => ({ theme: request.prefs.get("theme") ?? null }));
  app.post<{ Querystring: { theme: string } }>("/prefs", async (request) => {
    request.prefs.set("theme", request.query.theme);
    return { ok: true };
  });

  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url, close: () => app.close() };
}

describeAdapterScenarios("Fastify 5", startFastify);
