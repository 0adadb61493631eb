// Type tests, checked by `tsc -p tsconfig.test.json`. FastifySessions is
// augmented in scenarios.test.ts (session, prefs) and plugin.test.ts (extra):
// augmentations are global to the program, as in an application.
import type { PrefsData, ScenarioData } from "@sessionkit/adapter-scenarios";
import type { Session, SessionManager } from "@sessionkit/core";
import Fastify, { type FastifyRequest } from "fastify";
import { expectTypeOf } from "vitest";
import { sessionPlugin } from "../src/index.js";

declare const sessions: SessionManager<ScenarioData>;
declare const prefs: SessionManager<PrefsData>;
declare const request: FastifyRequest;

expectTypeOf(request.session).toEqualTypeOf<Session<ScenarioData>>();
expectTypeOf(request.prefs).toEqualTypeOf<Session<PrefsData>>();
expectTypeOf(request.session.get("cart")).toEqualTypeOf<string[] | undefined>();
expectTypeOf(request.prefs.get("theme")).toEqualTypeOf<string | undefined>();
// @ts-expect-error prefs holds no "cart"
request.prefs.get("cart");

const app = Fastify();
void app.register(sessionPlugin, { manager: sessions });
void app.register(sessionPlugin, { manager: prefs, sessionName: "prefs" });
// @ts-expect-error a named session must be declared in FastifySessions
void app.register(sessionPlugin, { manager: prefs, sessionName: "undeclared" });
// @ts-expect-error the manager's data must match the declared session
void app.register(sessionPlugin, { manager: sessions, sessionName: "prefs" });
// @ts-expect-error a named session needs its sessionName
void app.register(sessionPlugin, { manager: prefs });

app.get("/", async (req) => {
  expectTypeOf(req.session).toEqualTypeOf<Session<ScenarioData>>();
  return { theme: req.prefs.get("theme") };
});
