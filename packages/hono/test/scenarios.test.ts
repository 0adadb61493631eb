// The shared HTTP scenarios on Hono 4, served by @hono/node-server over real
// sockets, on every store.
import {
  type AppContext,
  describeAdapterScenarios,
  destroyThenUnavailable,
  discardChanges,
  type PrefsData,
  prepareThrow,
  type RunningApp,
  type ScenarioData,
  slowSet,
} from "@sessionkit/adapter-scenarios";
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import { type SessionVariables, sessionMiddleware } from "../src/index.js";
import { listen } from "./listen.js";

type Env = {
  Variables: SessionVariables<"session", ScenarioData> & SessionVariables<"prefs", PrefsData>;
};

async function startHono({ sessions, prefs, gates, onError }: AppContext): Promise<RunningApp> {
  const app = new Hono<Env>();
  app.use(sessionMiddleware(sessions, { onError }));
  app.use(sessionMiddleware(prefs, { sessionName: "prefs", onError }));
  // What a real app installs, as Hono's docs show: an HTTPException answers its
  // own response (a session failure's is bare), anything else a plain 500.
  app.onError((error, c) =>
    error instanceof HTTPException ? error.getResponse() : c.text("Internal Server Error", 500),
  );

  app.get("/state", (c) => {
    const session = c.get("session");
    return c.json({ isNew: session.isNew, userId: session.userId ?? null, data: session.toJSON() });
  });
  app.post("/login", (c) => {
    const user = c.req.query("user") ?? "";
    c.get("session").regenerate().setUser(user).set("user", user);
    setCookie(c, "theme", "dark", { path: "/" });
    setCookie(c, "lang", "en", { path: "/" });
    return c.json({ ok: true });
  });
  app.post("/cart", (c) => {
    const session = c.get("session");
    const cart = [...(session.get("cart") ?? []), c.req.query("item") ?? ""];
    session.set("cart", cart);
    return c.json({ cart });
  });
  app.post("/set", (c) => {
    c.get("session").set(c.req.query("key") ?? "", c.req.query("value") ?? "");
    return c.json({ ok: true });
  });
  app.post("/slow-set", async (c) =>
    c.json(
      await slowSet(c.get("session"), gates, {
        key: c.req.query("key") ?? "",
        value: c.req.query("value") ?? "",
        gate: c.req.query("gate") ?? "",
        commit: c.req.query("commit"),
      }),
    ),
  );
  app.post("/logout", (c) => {
    c.get("session").destroy();
    return c.json({ ok: true });
  });
  app.post("/logout-others", async (c) =>
    c.json({ destroyed: await c.get("session").destroyOtherSessions() }),
  );
  app.post("/logout-unavailable", (c) => {
    const { status, body } = destroyThenUnavailable(c.get("session"));
    return c.json(body, status);
  });
  app.post("/discard", (c) =>
    c.json(
      discardChanges(c.get("session"), {
        key: c.req.query("key") ?? "",
        value: c.req.query("value") ?? "",
      }),
    ),
  );
  app.post("/throw-status", async (c) => {
    const status = await prepareThrow(c.get("session"), gates, {
      status: c.req.query("status") ?? "",
      gate: c.req.query("gate") ?? "",
    });
    throw new HTTPException(status);
  });
  app.post("/throw", (c) => {
    c.get("session").set("poisoned", true);
    throw new Error("handler failed at /srv/app/secret.js");
  });
  app.get("/prefs", (c) => c.json({ theme: c.get("prefs").get("theme") ?? null }));
  app.post("/prefs", (c) => {
    c.get("prefs").set("theme", c.req.query("theme") ?? "");
    return c.json({ ok: true });
  });
  return listen(app.fetch);
}

describeAdapterScenarios("Hono 4 (@hono/node-server)", startHono);
