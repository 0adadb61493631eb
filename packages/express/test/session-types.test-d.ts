// Checked by `tsc -p tsconfig.test.json`. req.session is typed by the
// SessionRegister declared in readme-example.ts, req.prefs by its Express.Request
// augmentation: the two patterns the README documents.
import type { Session } from "@sessionkit/core";
import { createSessionManager } from "@sessionkit/core";
import { type RegisteredSession, type SessionMiddleware, session } from "@sessionkit/express";
import { createMemoryStore } from "@sessionkit/store-memory";
import express, { type Request } from "express";
import { expectTypeOf, test } from "vitest";
import type { PrefsData, ShopData } from "./readme-example.js";

interface Audit {
  lastAction: string;
}

const secrets = ["type-test-secret-0123456789-abcdefghijklmnop"];

test("req.session is the registered session type", () => {
  expectTypeOf<RegisteredSession>().toEqualTypeOf<Session<ShopData>>();
  expectTypeOf<Request["session"]>().toEqualTypeOf<Session<ShopData>>();
  const app = express();
  app.get("/", (req, res) => {
    expectTypeOf(req.session.get("cart")).toEqualTypeOf<string[] | undefined>();
    // @ts-expect-error unknown key
    req.session.get("nope");
    // @ts-expect-error wrong value type
    req.session.set("cart", "apple");
    res.end();
  });
});

test("an augmented property is typed: req.prefs", () => {
  expectTypeOf<Request["prefs"]>().toEqualTypeOf<Session<PrefsData>>();
  const app = express();
  app.get("/", (req, res) => {
    // @ts-expect-error theme is "light" | "dark"
    req.prefs.set("theme", "blue");
    res.end();
  });
});

test("session() returns a typed middleware whose from(req) needs no augmentation", () => {
  const audit = session(
    createSessionManager<Audit>({
      store: createMemoryStore(),
      secrets,
      cookie: { name: "__Host-audit" },
    }),
    { sessionName: "audit" },
  );
  expectTypeOf(audit).toEqualTypeOf<SessionMiddleware<Audit, Record<string, unknown>, "audit">>();
  expectTypeOf(audit.sessionName).toEqualTypeOf<"audit">();
  const app = express();
  app.use(audit);
  app.get("/", (req, res) => {
    expectTypeOf(audit.from(req)).toEqualTypeOf<Session<Audit>>();
    expectTypeOf(audit.from(req).get("lastAction")).toEqualTypeOf<string | undefined>();
    res.end();
  });
});

test('the default sessionName is inferred as "session"', () => {
  const main = session(createSessionManager<ShopData>({ store: createMemoryStore(), secrets }));
  expectTypeOf(main.sessionName).toEqualTypeOf<"session">();
  // @ts-expect-error options.onError receives (error, req)
  session(createSessionManager({ store: createMemoryStore(), secrets }), { onError: 1 });
});
