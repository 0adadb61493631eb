import type { FastifyInstance } from "fastify";
import { expect, it } from "vitest";

// The example augments FastifySessions with its own data types, which clash
// with the other tests' augmentations: it is type-checked in its own program
// (tsconfig.readme.json), so it is imported here through a non-literal path.
const example = "./readme-example.js";

it("the README example keeps a cart per browser session", async () => {
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  const { app } = (await import(example)) as { app: FastifyInstance };
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const add = (item: string, cookie = "") =>
      fetch(`${url}/cart`, {
        method: "POST",
        body: item,
        headers: { "content-type": "text/plain", ...(cookie === "" ? {} : { cookie }) },
      });
    const first = await add("apple");
    expect(await first.json()).toEqual({ items: 1, theme: "light" });
    const cookie = first.headers.getSetCookie()[0]?.split(";")[0] ?? "";
    expect(cookie).toMatch(/^__Host-sid=/);
    expect(await (await add("pear", cookie)).json()).toEqual({ items: 2, theme: "light" });
    expect(await (await add("plum")).json()).toEqual({ items: 1, theme: "light" });
  } finally {
    await app.close();
  }
});
