import { type StoreCase, storeCases } from "@sessionkit/adapter-scenarios";
import {
  createSessionManager,
  ErrorCode,
  type SessionEvent,
  type SessionStore,
  type StandardSchemaV1,
} from "@sessionkit/core";
import { storeKeyOf } from "@sessionkit/core/store";
import { type } from "arktype";
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

// Versioned, validated session data across a deploy, with the three Standard
// Schema libraries users pick, over every real store.

const SECRET = "integration-secret-Vm9sdGFpcmUgd3JvdGUgQ2FuZGlkZQ";

/** The shape before the deploy. */
interface V1 {
  user?: string | undefined;
  cart?: string[] | undefined;
}

/** The shape after the deploy: `user` became an object. */
interface V2 {
  user?: { id: string; name: string } | undefined;
  cart?: string[] | undefined;
}

const libraries: {
  name: string;
  v1: StandardSchemaV1<unknown, V1>;
  v2: StandardSchemaV1<unknown, V2>;
}[] = [
  {
    name: "zod",
    v1: z.object({ user: z.string().optional(), cart: z.array(z.string()).optional() }),
    v2: z.object({
      user: z.object({ id: z.string(), name: z.string() }).optional(),
      cart: z.array(z.string()).optional(),
    }),
  },
  {
    name: "valibot",
    v1: v.object({ user: v.optional(v.string()), cart: v.optional(v.array(v.string())) }),
    v2: v.object({
      user: v.optional(v.object({ id: v.string(), name: v.string() })),
      cart: v.optional(v.array(v.string())),
    }),
  },
  {
    name: "arktype",
    v1: type({ "user?": "string", "cart?": "string[]" }),
    v2: type({ "user?": { id: "string", name: "string" }, "cart?": "string[]" }),
  },
];

const upgrade = (data: Record<string, unknown>, from: number) => {
  if (from !== 1) throw new Error(`no upgrade from version ${from}`);
  const { user, ...rest } = data;
  return typeof user === "string" ? { ...rest, user: { id: user, name: "(unknown)" } } : rest;
};

function deploys(store: SessionStore, schemas: (typeof libraries)[number]) {
  const events: SessionEvent["type"][] = [];
  const onEvent = (event: SessionEvent) => events.push(event.type);
  const v1 = createSessionManager({ store, secrets: [SECRET], schema: schemas.v1, onEvent });
  const v2 = createSessionManager({
    store,
    secrets: [SECRET],
    schema: schemas.v2,
    version: 2,
    upgrade,
    onEvent,
  });
  return { v1, v2, events };
}

const cookieOf = (headers: readonly (readonly [string, string])[]) => {
  const setCookie = headers.find(([name]) => name === "Set-Cookie")?.[1] ?? "";
  return setCookie.slice(0, setCookie.indexOf(";"));
};
const request = (cookie?: string) => new Headers(cookie === undefined ? {} : { cookie });
const keyOf = (cookie: string) =>
  storeKeyOf(cookie.slice(cookie.indexOf("=") + 1, cookie.indexOf(".")));

for (const storeCase of storeCases().filter((c) =>
  ["memory", "sqlite", "redis", "postgres"].includes(c.name),
)) {
  describe.each(libraries)(`schema with $name on ${storeCase.name}`, (schemas) => {
    let store: SessionStore;
    const kind: StoreCase = storeCase;
    beforeAll(async () => {
      store = await kind.create();
    });
    afterAll(async () => {
      await kind.dispose(store);
    });

    it("a session written by v1 code is upgraded by v2 code on load and stored as version 2", async () => {
      const { v1, v2, events } = deploys(store, schemas);
      const first = await v1.load(request());
      const cookie = cookieOf(
        (await first.set("user", "u1").set("cart", ["apple"]).commit()).headers,
      );

      const session = await v2.load(request(cookie));
      expect(session.get("user")).toEqual({ id: "u1", name: "(unknown)" });
      expect(session.get("cart")).toEqual(["apple"]);
      expect(events).toEqual(["created", "upgraded"]);
      expect((await session.commit()).outcome).toBe("updated");
      const stored = await store.get(keyOf(cookie));
      expect(JSON.parse(stored?.payload ?? "null")).toEqual({
        d: { user: { id: "u1", name: "(unknown)" }, cart: ["apple"] },
        v: 2,
      });
    });

    it("v2 code refuses to write data its schema rejects, and nothing is stored", async () => {
      const { v2 } = deploys(store, schemas);
      const session = await v2.load(request());
      session.set("user", { id: "u2" } as V2["user"]);
      await expect(session.commit()).rejects.toMatchObject({
        code: ErrorCode.INVALID_DATA,
        message: expect.stringContaining("user"),
      });
      expect(session.isNew).toBe(true);
    });

    it("during a rolling deploy, v1 code serves a v2 session anonymous and never deletes it", async () => {
      const { v1, v2, events } = deploys(store, schemas);
      const first = await v2.load(request());
      const cookie = cookieOf(
        (await first.set("user", { id: "u3", name: "Ann" }).commit()).headers,
      );
      const old = await v1.load(request(cookie));
      expect(old.isNew).toBe(true);
      expect(events).toEqual(["created", "invalid-data"]);
      expect((await store.get(keyOf(cookie)))?.payload).toContain('"v":2');
      expect((await v2.load(request(cookie))).get("user")).toEqual({ id: "u3", name: "Ann" });
    });

    it('stored data that fails validation is deleted with onInvalid "reset"', async () => {
      const { v1 } = deploys(store, schemas);
      const unchecked = createSessionManager({ store, secrets: [SECRET] });
      const first = await unchecked.load(request());
      const cookie = cookieOf((await first.set("cart", "not a list").commit()).headers);
      const session = await v1.load(request(cookie));
      expect(session.isNew).toBe(true);
      expect(await store.get(keyOf(cookie))).toBeNull();
    });
  });
}
