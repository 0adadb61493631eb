// Runs the README's example (test/readme-example.ts) against the real server.
import { randomBytes } from "node:crypto";
import { getPostgresUrl } from "@sessionkit/conformance";
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createSchema, dropSchema, openAdminPool } from "./helpers.js";
import { createSessions, openOtherWays } from "./readme-example.js";

let admin: pg.Pool;
let schema: string;
beforeAll(async () => {
  admin = await openAdminPool();
  schema = await createSchema(admin);
});
afterAll(async () => {
  await dropSchema(admin, schema);
  await admin.end();
});

it("the README example stores a session in Postgres and reads it back on the next request", async () => {
  const { pool, store, handle } = await createSessions({
    databaseUrl: await getPostgresUrl(),
    sessionSecret: randomBytes(32).toString("base64url"),
    schema,
  });
  try {
    const first = await handle(new Request("https://example.com/cart", { method: "POST" }));
    const setCookie = first.headers.get("set-cookie");
    expect(setCookie).toBeTruthy();
    expect(await store.count()).toBe(1);
    const cookie = (setCookie as string).split(";")[0] as string;
    await handle(new Request("https://example.com/cart", { method: "POST", headers: { cookie } }));
    const rows = await admin.query<{ payload: string }>(
      `SELECT payload FROM "${schema}".sessionkit_sessions`,
    );
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]?.payload).toContain('"cart":["apple","apple"]');
  } finally {
    await store.close();
    await pool.end();
  }
});

it("the README's other ways to open the store work against the real server", async () => {
  const { owned, configured } = await openOtherWays(await getPostgresUrl(), schema);
  try {
    const key = randomBytes(32).toString("hex");
    const now = Date.now();
    const record = { payload: "{}", createdAt: now, expiresAt: now + 60_000, version: 1 };
    expect(await configured.set(key, record, { ifVersion: 0 })).toBe(true);
    expect((await owned.get(key))?.payload).toBe("{}");
  } finally {
    await owned.close();
    await configured.close?.();
  }
});
