import { expect, it } from "vitest";

it("the README example keeps a cart per browser session", async () => {
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  const { app } = await import("./readme-example.js");
  const add = (item: string, cookie = "") =>
    app.request("/cart", { method: "POST", body: item, headers: cookie === "" ? {} : { cookie } });
  const first = await add("apple");
  expect(await first.json()).toEqual({ items: 1, theme: "light" });
  const cookie = first.headers.getSetCookie()[0]?.split(";")[0] ?? "";
  expect(cookie).toMatch(/^__Host-sid=/);
  expect(await (await add("pear", cookie)).json()).toEqual({ items: 2, theme: "light" });
  expect(await (await add("plum")).json()).toEqual({ items: 1, theme: "light" });
});
