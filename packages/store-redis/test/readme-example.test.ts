import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { getRedisUrl } from "@sessionkit/conformance";
import { beforeAll, expect, it } from "vitest";
import { driveCartApp } from "../../../scripts/newcomer/drive.mjs";

beforeAll(async () => {
  process.env.REDIS_URL = await getRedisUrl();
  process.env.SESSION_STORE_URL = `${process.env.REDIS_URL}?prefix=myapp`;
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  process.env.PORT = "0";
});

it("the README example keeps a cart in Redis and logs out", async () => {
  const { server, store, client } = await import("./readme-example.js");
  if (!server.listening) await once(server, "listening");
  try {
    const { port } = server.address() as AddressInfo;
    expect(await driveCartApp(`http://127.0.0.1:${port}`)).toEqual({
      sessionCookies: ["__Host-sid"],
    });
  } finally {
    // Logout destroyed the only session the example wrote: nothing to clear
    // (the prefix is fixed, so clearing could hit a concurrent run).
    server.closeAllConnections();
    server.close();
    await store.close();
    await client.quit();
  }
});

it("the README's registry form opens a store from a URL", async () => {
  const { store } = await import("./readme-example-open.js");
  expect(store.name).toBe("redis");
  await store.close?.();
});
