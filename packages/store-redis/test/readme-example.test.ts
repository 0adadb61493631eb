import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { getRedisUrl } from "@sessionkit/conformance";
import { afterAll, beforeAll, expect, it } from "vitest";

let example: typeof import("./readme-example.js");
beforeAll(async () => {
  process.env.REDIS_URL = await getRedisUrl();
  process.env.SESSION_STORE_URL = `${process.env.REDIS_URL}?prefix=myapp`;
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  example = await import("./readme-example.js");
});
afterAll(async () => {
  // The example's prefix is fixed: clear exactly what it wrote, nothing else.
  if (example === undefined) return;
  await example.store.clear();
  await example.store.close();
  await example.client.quit();
});

it("the README example keeps a cart in Redis across requests", async () => {
  const { server, store } = example;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const added = await fetch(url, { method: "POST" });
    expect(await added.text()).toBe("1 item(s) in your cart\n");
    const cookie = added.headers.getSetCookie()[0]?.split(";")[0] ?? "";
    expect(await (await fetch(url, { headers: { cookie } })).text()).toBe(
      "1 item(s) in your cart\n",
    );
    expect(await store.count()).toBeGreaterThanOrEqual(1);
  } finally {
    server.close();
  }
});

it("the README's registry form opens a store from a URL", async () => {
  const opened = await example.openFromUrl();
  expect(opened.name).toBe("redis");
  await opened.close?.();
});
