// The scenarios through core's own helpers: createNodeHandler (node:http) and
// withSession (Fetch API, served by a minimal node:http bridge).
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type AppContext,
  describeAdapterScenarios,
  type PrefsData,
  type RunningApp,
  type ScenarioData,
} from "@sessionkit/adapter-scenarios";
import { createNodeHandler, errorResponse, type Session, withSession } from "@sessionkit/core";

async function listen(
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
async function route(
  method: string,
  url: URL,
  session: Session<ScenarioData>,
  prefs: Session<PrefsData>,
): Promise<{ body: unknown; cookies?: string[] }> {
  const q = (name: string) => url.searchParams.get(name) ?? "";
  switch (`${method} ${url.pathname}`) {
    case "GET /state":
      return {
        body: { isNew: session.isNew, userId: session.userId ?? null, data: session.toJSON() },
      };
    case "POST /login":
      session.regenerate().setUser(q("user")).set("user", q("user"));
      return { body: { ok: true }, cookies: ["theme=dark; Path=/"] };
    case "POST /cart":
      session.set("cart", [...(session.get("cart") ?? []), q("item")]);
      return { body: { cart: session.get("cart") } };
    case "POST /set":
      session.set(q("key"), q("value"));
      return { body: { ok: true } };
    case "POST /logout":
      session.destroy();
      return { body: { ok: true } };
    case "POST /logout-others":
      return { body: { destroyed: await session.destroyOtherSessions() } };
    case "POST /throw":
      session.set("poisoned", true);
      throw new Error("handler failed at /srv/app/secret.js");
    case "GET /prefs":
      return { body: { theme: prefs.get("theme") ?? null } };
    case "POST /prefs":
      prefs.set("theme", q("theme"));
      return { body: { ok: true } };
    default:
      return { body: { error: "not found" } };
  }
}

describeAdapterScenarios(
  "node:http (createNodeHandler)",
  async ({ sessions, prefs }: AppContext) => {
    // The second session is committed inside the first one's handler, before any byte is sent.
    const handler = createNodeHandler(sessions, async (req, res, session) => {
      const prefSession = await prefs.load(req);
      const url = new URL(req.url ?? "/", "http://localhost");
      const { body, cookies } = await route(req.method ?? "GET", url, session, prefSession);
      for (const [name, value] of (await prefSession.commit()).headers) {
        if (name === "Set-Cookie") res.appendHeader(name, value);
        else res.setHeader(name, value);
      }
      if (cookies) for (const cookie of cookies) res.appendHeader("Set-Cookie", cookie);
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(body));
    });
    return listen(handler);
  },
);

describeAdapterScenarios("Fetch API (withSession)", async ({ sessions, prefs }: AppContext) => {
  const inner = withSession(sessions, (request, session) =>
    withSession(prefs, async (_request, prefSession) => {
      const { body, cookies } = await route(
        request.method,
        new URL(request.url),
        session,
        prefSession,
      );
      const response = Response.json(body);
      for (const cookie of cookies ?? []) response.headers.append("Set-Cookie", cookie);
      return response;
    })(request),
  );
  const handle = async (request: Request): Promise<Response> => {
    try {
      return await inner(request);
    } catch (error) {
      return errorResponse(error);
    }
  };
  // A minimal node:http → Fetch bridge (what Bun, Deno and Next.js do natively).
  return listen((req, res) => {
    const request = new Request(new URL(req.url ?? "/", "http://127.0.0.1"), {
      method: req.method ?? "GET",
      headers: Object.entries(req.headers).flatMap(([name, value]) =>
        value === undefined
          ? []
          : (Array.isArray(value) ? value : [value]).map((v) => [name, v] as [string, string]),
      ),
    });
    void handle(request).then(async (response) => {
      res.statusCode = response.status;
      for (const [name, value] of response.headers)
        if (name !== "set-cookie") res.setHeader(name, value);
      const setCookies = response.headers.getSetCookie();
      if (setCookies.length > 0) res.setHeader("Set-Cookie", setCookies);
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  });
});
