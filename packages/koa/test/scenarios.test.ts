// The shared HTTP scenarios on Koa 3 and Koa 2, over real sockets, on every store.
import {
  type AppContext,
  describeAdapterScenarios,
  destroyThenUnavailable,
  discardChanges,
  type PrefsData,
  prepareThrow,
  type ScenarioData,
  slowSet,
} from "@sessionkit/adapter-scenarios";
import type { Session } from "@sessionkit/core";
import Koa from "koa";
import Koa2 from "koa2";
import { session } from "../src/index.js";
import { listen } from "./listen.js";

declare module "../src/index.js" {
  interface KoaSessions {
    session: Session<ScenarioData>;
    prefs: Session<PrefsData>;
  }
}

function scenarioApp(Framework: typeof Koa, { sessions, prefs, gates, onError }: AppContext): Koa {
  const app = new Framework();
  // What a real app installs, outermost: an error answers its status
  // (http-errors style `status`, else 500) with the status text, no details.
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const status = (error as { status?: unknown }).status;
      ctx.status = typeof status === "number" && status >= 400 && status <= 599 ? status : 500;
      ctx.type = "text/plain";
      ctx.body = ctx.message;
    }
  });
  app.use(session(sessions, { onError }));
  app.use(session(prefs, { sessionName: "prefs", onError }));
  app.use(async (ctx) => {
    const q = (name: string) => String(ctx.query[name] ?? "");
    switch (`${ctx.method} ${ctx.path}`) {
      case "GET /state":
        ctx.body = {
          isNew: ctx.session.isNew,
          userId: ctx.session.userId ?? null,
          data: ctx.session.toJSON(),
        };
        return;
      case "POST /login":
        ctx.session.regenerate().setUser(q("user")).set("user", q("user"));
        ctx.cookies.set("theme", "dark", { path: "/", httpOnly: false });
        ctx.cookies.set("lang", "en", { path: "/", httpOnly: false });
        ctx.body = { ok: true };
        return;
      case "POST /cart": {
        const cart = [...(ctx.session.get("cart") ?? []), q("item")];
        ctx.session.set("cart", cart);
        ctx.body = { cart };
        return;
      }
      case "POST /set":
        ctx.session.set(q("key"), q("value"));
        ctx.body = { ok: true };
        return;
      case "POST /slow-set":
        ctx.body = await slowSet(ctx.session, gates, {
          key: q("key"),
          value: q("value"),
          gate: q("gate"),
          commit: q("commit"),
        });
        return;
      case "POST /logout":
        ctx.session.destroy();
        ctx.body = { ok: true };
        return;
      case "POST /logout-others":
        ctx.body = { destroyed: await ctx.session.destroyOtherSessions() };
        return;
      case "POST /logout-unavailable": {
        const { status, body } = destroyThenUnavailable(ctx.session);
        ctx.status = status;
        ctx.body = body;
        return;
      }
      case "POST /discard":
        ctx.body = discardChanges(ctx.session, { key: q("key"), value: q("value") });
        return;
      case "POST /throw-status":
        ctx.throw(await prepareThrow(ctx.session, gates, { status: q("status"), gate: q("gate") }));
        return;
      case "POST /throw":
        ctx.session.set("poisoned", true);
        throw new Error("handler failed at /srv/app/secret.js");
      case "GET /prefs":
        ctx.body = { theme: ctx.prefs.get("theme") ?? null };
        return;
      case "POST /prefs":
        ctx.prefs.set("theme", q("theme"));
        ctx.body = { ok: true };
        return;
    }
  });
  return app;
}

describeAdapterScenarios("Koa 3", async (context) => listen(scenarioApp(Koa, context)));
describeAdapterScenarios("Koa 2", async (context) => listen(scenarioApp(Koa2, context)));
