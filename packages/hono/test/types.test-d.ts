// Type tests, checked by `tsc -p tsconfig.test.json`.
import type { PrefsData, ScenarioData } from "@sessionkit/adapter-scenarios";
import type { Session, SessionData, SessionManager } from "@sessionkit/core";
import { Hono } from "hono";
import { expectTypeOf } from "vitest";
import { type SessionVariables, sessionMiddleware } from "../src/index.js";

declare const sessions: SessionManager<ScenarioData>;
declare const prefs: SessionManager<PrefsData>;

expectTypeOf<SessionVariables>().toEqualTypeOf<{ session: Session<SessionData> }>();
expectTypeOf<SessionVariables<"prefs", PrefsData>>().toEqualTypeOf<{
  prefs: Session<PrefsData>;
}>();

// Typed through the app's Variables.
const app = new Hono<{
  Variables: SessionVariables<"session", ScenarioData> & SessionVariables<"prefs", PrefsData>;
}>();
app.use(sessionMiddleware(sessions));
app.use(sessionMiddleware(prefs, { sessionName: "prefs" }));
app.get("/", (c) => {
  expectTypeOf(c.get("session")).toEqualTypeOf<Session<ScenarioData>>();
  expectTypeOf(c.get("prefs").get("theme")).toEqualTypeOf<string | undefined>();
  expectTypeOf(c.var.prefs).toEqualTypeOf<Session<PrefsData>>();
  // @ts-expect-error prefs holds no "cart"
  c.get("prefs").get("cart");
  return c.text("ok");
});

// Or inferred from the middleware chain, without declaring Variables.
new Hono().use(sessionMiddleware(prefs, { sessionName: "prefs" })).get("/", (c) => {
  expectTypeOf(c.get("prefs")).toEqualTypeOf<Session<PrefsData>>();
  return c.text("ok");
});
