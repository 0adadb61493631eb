import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { expect, it } from "vitest";

it("the README example counts visits per browser session", async () => {
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  const { server } = await import("./readme-example.js");
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const first = await fetch(url);
    expect(await first.text()).toBe("You have visited 1 time(s).\n");
    const cookie = first.headers.getSetCookie()[0]?.split(";")[0] ?? "";
    expect(cookie).toMatch(/^__Host-sid=/);
    const second = await fetch(url, { headers: { cookie } });
    expect(await second.text()).toBe("You have visited 2 time(s).\n");
    expect(await (await fetch(url)).text()).toBe("You have visited 1 time(s).\n");
  } finally {
    server.close();
  }
});

it("the README Fetch example keeps a cart across requests", async () => {
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  const { POST } = await import("./readme-fetch-example.js");
  const first = await POST(
    new Request("https://shop.test/cart", { method: "POST", body: "apple" }),
  );
  expect(await first.json()).toEqual({ items: 1 });
  const cookie = first.headers.getSetCookie()[0]?.split(";")[0] ?? "";
  const second = await POST(
    new Request("https://shop.test/cart", { method: "POST", body: "pear", headers: { cookie } }),
  );
  expect(await second.json()).toEqual({ items: 2 });
});
