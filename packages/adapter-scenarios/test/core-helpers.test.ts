// The scenarios through core's own helpers: createNodeHandler (node:http) and
// withSession (Fetch API, served by a minimal node:http bridge).
import { type AppContext, describeAdapterScenarios } from "@sessionkit/adapter-scenarios";
import { withSession } from "@sessionkit/core";
import { errorResponse } from "@sessionkit/core/adapter";
import { listen, route, startNodeApp } from "./reference-app.js";

// createNodeHandler has no error handler to hand a thrown HTTP error to: it
// answers every throw with a bare 500.
describeAdapterScenarios("node:http (createNodeHandler)", startNodeApp, {
  thrownClientErrors: 500,
});

describeAdapterScenarios("Fetch API (withSession)", async (context: AppContext) => {
  const { sessions, prefs, gates, onError } = context;
  const inner = withSession(
    sessions,
    (request, session) =>
      withSession(
        prefs,
        async (_request, prefSession) => {
          const { status, body, cookies } = await route(
            request.method,
            new URL(request.url),
            session,
            prefSession,
            gates,
          );
          const response = Response.json(body, { status: status ?? 200 });
          for (const cookie of cookies ?? []) response.headers.append("Set-Cookie", cookie);
          return response;
        },
        { onError },
      )(request),
    { onError },
  );
  // The app's error handling, as a Fetch runtime's would be: a thrown 4xx HTTP
  // error is answered with its status, anything else bare.
  const handle = async (request: Request): Promise<Response> => {
    try {
      return await inner(request);
    } catch (error) {
      const status = (error as { status?: unknown } | null)?.status;
      if (typeof status === "number" && status >= 400 && status < 500) {
        return new Response(null, { status });
      }
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
