// Runs the README's examples against the real server (the public schema's
// sessionkit_sessions table, created idempotently by the example itself).
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { getPostgresUrl } from "@sessionkit/conformance";
import { beforeAll, expect, it } from "vitest";
import { driveCartApp } from "../../../scripts/newcomer/drive.mjs";

beforeAll(async () => {
  process.env.DATABASE_URL = await getPostgresUrl();
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  process.env.PORT = "0";
});

it("the README example keeps a cart in Postgres and logs out", async () => {
  const { server, store, pool } = await import("./readme-example.js");
  if (!server.listening) await once(server, "listening");
  try {
    const { port } = server.address() as AddressInfo;
    expect(await driveCartApp(`http://127.0.0.1:${port}`)).toEqual({
      sessionCookies: ["__Host-sid"],
    });
  } finally {
    server.closeAllConnections();
    server.close();
    await store.close();
    await pool.end();
  }
});

it("the README's other ways to open the store work against the real server", async () => {
  const { owned, configured } = await import("./readme-example-open.js");
  try {
    const key = randomBytes(32).toString("hex");
    const now = Date.now();
    const record = { payload: "{}", createdAt: now, expiresAt: now + 60_000, version: 1 };
    expect(await configured.set(key, record, { ifVersion: 0 })).toBe(true);
    expect((await owned.get(key))?.payload).toBe("{}");
    await owned.destroy(key);
  } finally {
    await owned.close();
    await configured.close?.();
  }
});
