// Type tests, checked by `tsc -p tsconfig.test.json`. KoaSessions is augmented
// in scenarios.test.ts (session, prefs) and middleware.test.ts (extra):
// augmentations are global to the program, as in an application.
import type { PrefsData, ScenarioData } from "@sessionkit/adapter-scenarios";
import type { Session, SessionManager } from "@sessionkit/core";
import Koa, { type Context } from "koa";
import { expectTypeOf } from "vitest";
import { session } from "../src/index.js";

declare const sessions: SessionManager<ScenarioData>;
declare const prefs: SessionManager<PrefsData>;
declare const ctx: Context;

expectTypeOf(ctx.session).toEqualTypeOf<Session<ScenarioData>>();
expectTypeOf(ctx.prefs).toEqualTypeOf<Session<PrefsData>>();
expectTypeOf(ctx.session.get("cart")).toEqualTypeOf<string[] | undefined>();
// @ts-expect-error prefs holds no "cart"
ctx.prefs.get("cart");

const app = new Koa();
app.use(session(sessions));
app.use(session(prefs, { sessionName: "prefs" }));
// @ts-expect-error a named session must be declared in KoaSessions
app.use(session(prefs, { sessionName: "undeclared" }));
// @ts-expect-error the manager's data must match the declared session
app.use(session(sessions, { sessionName: "prefs" }));
// @ts-expect-error the default property holds the main session
app.use(session(prefs));
app.use(async (context) => {
  expectTypeOf(context.session).toEqualTypeOf<Session<ScenarioData>>();
  context.body = { theme: context.prefs.get("theme") };
});
