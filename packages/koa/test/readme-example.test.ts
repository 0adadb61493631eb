import type Koa from "koa";
import { expect, it } from "vitest";
import { listen } from "./listen.js";

// The example augments KoaSessions with its own data types, which clash with
// the other tests' augmentations: it is type-checked in its own program
// (tsconfig.readme.json), so it is imported here through a non-literal path.
const example = "./readme-example.js";

it("the README example keeps a cart per browser session", async () => {
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  const { app } = (await import(example)) as { app: Koa };
  const running = await listen(app);
  try {
    const add = (item: string, cookie = "") =>
      fetch(`${running.url}/?item=${item}`, {
        method: "POST",
        headers: cookie === "" ? {} : { cookie },
      });
    const first = await add("apple");
    expect(await first.json()).toEqual({ items: 1, theme: "light" });
    const cookie = first.headers.getSetCookie()[0]?.split(";")[0] ?? "";
    expect(cookie).toMatch(/^__Host-sid=/);
    expect(await (await add("pear", cookie)).json()).toEqual({ items: 2, theme: "light" });
    expect(await (await add("plum")).json()).toEqual({ items: 1, theme: "light" });
  } finally {
    await running.close();
  }
});
