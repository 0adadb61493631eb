import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { expect, it } from "vitest";

it("the README example keeps a cart and a theme in two sessions", async () => {
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  const { app } = await import("./readme-example.js");
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const cookies = new Map<string, string>();
    const send = async (method: string, path: string) => {
      const header = [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
      const response = await fetch(`${base}${path}`, {
        method,
        redirect: "manual",
        headers: header === "" ? {} : { cookie: header },
      });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair = ""] = cookie.split(";");
        cookies.set(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
      }
      return response;
    };
    expect(await (await send("POST", "/cart/apple")).json()).toEqual({ items: 1 });
    expect(await (await send("POST", "/cart/pear")).json()).toEqual({ items: 2 });
    expect((await send("POST", "/theme/dark")).status).toBe(303);
    expect([...cookies.keys()].sort()).toEqual(["__Host-prefs", "__Host-sid"]);
    expect(await (await send("GET", "/")).json()).toEqual({
      cart: ["apple", "pear"],
      theme: "dark",
    });
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
