// The scenario routes written once against core's Session API, served by
// core's createNodeHandler: shared by the core-helper scenarios and the
// cross-process test (which runs it in child processes).
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type AppContext,
  destroyThenUnavailable,
  discardChanges,
  type Gates,
  httpError,
  type PrefsData,
  prepareThrow,
  type RunningApp,
  type ScenarioData,
  slowSet,
} from "@sessionkit/adapter-scenarios";
import type { Session } from "@sessionkit/core";
import { createNodeHandler } from "@sessionkit/core/node";

export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<RunningApp> {
  const server = createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The scenario routes, written once against core's Session API. */
export async function route(
  method: string,
  url: URL,
  session: Session<ScenarioData>,
  prefs: Session<PrefsData>,
  gates: Gates,
): Promise<{ status?: number; body: unknown; cookies?: string[] }> {
  const q = (name: string) => url.searchParams.get(name) ?? "";
  switch (`${method} ${url.pathname}`) {
    case "GET /state":
      return {
        body: { isNew: session.isNew, userId: session.userId ?? null, data: session.toJSON() },
      };
    case "POST /login":
      session.regenerate().setUser(q("user")).set("user", q("user"));
      return { body: { ok: true }, cookies: ["theme=dark; Path=/", "lang=en; Path=/"] };
    case "POST /cart":
      session.set("cart", [...(session.get("cart") ?? []), q("item")]);
      return { body: { cart: session.get("cart") } };
    case "POST /set":
      session.set(q("key"), q("value"));
      return { body: { ok: true } };
    case "POST /slow-set":
      return {
        body: await slowSet(session, gates, {
          key: q("key"),
          value: q("value"),
          gate: q("gate"),
          commit: q("commit"),
        }),
      };
    case "POST /logout":
      session.destroy();
      return { body: { ok: true } };
    case "POST /logout-others":
      return { body: { destroyed: await session.destroyOtherSessions() } };
    case "POST /logout-unavailable":
      return destroyThenUnavailable(session);
    case "POST /discard":
      return { body: discardChanges(session, { key: q("key"), value: q("value") }) };
    case "POST /throw":
      session.set("poisoned", true);
      throw new Error("handler failed at /srv/app/secret.js");
    case "POST /throw-status":
      throw httpError(await prepareThrow(session, gates, { status: q("status"), gate: q("gate") }));
    case "GET /prefs":
      return { body: { theme: prefs.get("theme") ?? null } };
    case "POST /prefs":
      prefs.set("theme", q("theme"));
      return { body: { ok: true } };
    default:
      return { body: { error: "not found" } };
  }
}

/** The scenario app on plain node:http through core's createNodeHandler. */
export function startNodeApp({ sessions, prefs, gates, onError }: AppContext): Promise<RunningApp> {
  // The second session is committed inside the first one's handler, before any byte is sent.
  const handler = createNodeHandler(
    sessions,
    async (req, res, session) => {
      const prefSession = await prefs.load(req);
      const url = new URL(req.url ?? "/", "http://localhost");
      const { status, body, cookies } = await route(
        req.method ?? "GET",
        url,
        session,
        prefSession,
        gates,
      );
      for (const [name, value] of (await prefSession.commit()).headers) {
        if (name === "Set-Cookie") res.appendHeader(name, value);
        else res.setHeader(name, value);
      }
      if (cookies) for (const cookie of cookies) res.appendHeader("Set-Cookie", cookie);
      res.statusCode = status ?? 200;
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(body));
    },
    { onError },
  );
  return listen(handler);
}
