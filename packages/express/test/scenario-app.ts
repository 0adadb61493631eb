// The adapter-scenarios routes on Express, shared by the Express 4 and 5 runs.
import { once } from "node:events";
import { STATUS_CODES } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type AppContext,
  destroyThenUnavailable,
  discardChanges,
  httpError,
  prepareThrow,
  type RunningApp,
  slowSet,
} from "@sessionkit/adapter-scenarios";
import type express from "express";
import type { ErrorRequestHandler, Request, RequestHandler, Response } from "express";
import { session, sessionErrors } from "../src/index.js";

/** `express` or `express4`: both export the same factory. */
export type ExpressFactory = typeof express;

/** Listens on a free port of 127.0.0.1. */
export async function listen(app: ReturnType<ExpressFactory>): Promise<RunningApp> {
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The status an error asks for, `http-errors` style (`status` 4xx/5xx), else 500. */
export function statusOf(error: unknown): number {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" && status >= 400 && status <= 599 ? status : 500;
}

/**
 * An error handler like a real app's: answers the error's status with its
 * status text, never the error itself. Four parameters, because Express tells
 * error handlers apart by arity.
 */
export const appErrorHandler: ErrorRequestHandler = (error, _req, res, _next) => {
  const status = statusOf(error);
  res.status(status).type("text/plain").send(STATUS_CODES[status]);
};

/**
 * Express 5 forwards a rejected promise to the error handlers itself; Express 4
 * ignores it, so async routes there need this wrapper, as real Express 4 apps do.
 */
export function asyncRoute(
  nativeAsync: boolean,
  handler: (req: Request, res: Response) => Promise<unknown>,
): RequestHandler {
  if (nativeAsync) return handler;
  return (req, res, next) => {
    handler(req, res).catch(next);
  };
}

export async function startScenarioApp(
  create: ExpressFactory,
  { sessions, prefs, gates, onError }: AppContext,
  options: { readonly nativeAsync: boolean },
): Promise<RunningApp> {
  const app = create();
  const main = session(sessions, { onError });
  const second = session(prefs, { sessionName: "prefs", onError });
  app.use(main, second);
  const route = (handler: (req: Request, res: Response) => Promise<unknown>) =>
    asyncRoute(options.nativeAsync, handler);
  const q = (req: Request, name: string): string => {
    const value = req.query[name];
    return typeof value === "string" ? value : "";
  };

  app.get(
    "/state",
    route(async (req, res) => {
      const s = main.from(req);
      res.json({ isNew: s.isNew, userId: s.userId ?? null, data: s.toJSON() });
    }),
  );
  app.post(
    "/login",
    route(async (req, res) => {
      main.from(req).regenerate().setUser(q(req, "user")).set("user", q(req, "user"));
      res.cookie("theme", "dark", { path: "/" });
      res.cookie("lang", "en", { path: "/" });
      res.json({ ok: true });
    }),
  );
  app.post(
    "/cart",
    route(async (req, res) => {
      const s = main.from(req);
      s.set("cart", [...(s.get("cart") ?? []), q(req, "item")]);
      res.json({ cart: s.get("cart") });
    }),
  );
  app.post(
    "/set",
    route(async (req, res) => {
      main.from(req).set(q(req, "key"), q(req, "value"));
      res.json({ ok: true });
    }),
  );
  app.post(
    "/slow-set",
    route(async (req, res) => {
      res.json(
        await slowSet(main.from(req), gates, {
          key: q(req, "key"),
          value: q(req, "value"),
          gate: q(req, "gate"),
          commit: q(req, "commit"),
        }),
      );
    }),
  );
  app.post(
    "/logout",
    route(async (req, res) => {
      main.from(req).destroy();
      res.json({ ok: true });
    }),
  );
  app.post(
    "/logout-others",
    route(async (req, res) => {
      res.json({ destroyed: await main.from(req).destroyOtherSessions() });
    }),
  );
  app.post(
    "/logout-unavailable",
    route(async (req, res) => {
      const { status, body } = destroyThenUnavailable(main.from(req));
      res.status(status).json(body);
    }),
  );
  app.post(
    "/discard",
    route(async (req, res) => {
      res.json(discardChanges(main.from(req), { key: q(req, "key"), value: q(req, "value") }));
    }),
  );
  app.post("/throw", (req) => {
    main.from(req).set("poisoned", true);
    throw new Error("handler failed at /srv/app/secret.js");
  });
  app.post(
    "/throw-status",
    route(async (req) => {
      const status = await prepareThrow(main.from(req), gates, {
        status: q(req, "status"),
        gate: q(req, "gate"),
      });
      throw httpError(status);
    }),
  );
  app.get(
    "/prefs",
    route(async (req, res) => {
      res.json({ theme: second.from(req).get("theme") ?? null });
    }),
  );
  app.post(
    "/prefs",
    route(async (req, res) => {
      second.from(req).set("theme", q(req, "theme"));
      res.json({ ok: true });
    }),
  );
  app.use(sessionErrors());
  app.use(appErrorHandler);
  return listen(app);
}
