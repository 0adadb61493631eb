import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { expect, it } from "vitest";
import { driveCartApp } from "../../../scripts/newcomer/drive.mjs";

it("the README example keeps a cart and a theme in two sessions, and logs out of the cart", async () => {
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  process.env.PORT = "0";
  const { server } = await import("./readme-example.js");
  if (!server.listening) await once(server, "listening");
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await driveCartApp(base)).toEqual({ sessionCookies: ["__Host-sid"] });
    const theme = await fetch(`${base}/theme/dark`, { method: "POST", redirect: "manual" });
    expect(theme.status).toBe(303);
    const prefs = theme.headers.getSetCookie()[0]?.split(";")[0] ?? "";
    expect(prefs).toMatch(/^__Host-prefs=/);
    expect(await (await fetch(base, { headers: { cookie: prefs } })).json()).toEqual({
      cart: [],
      theme: "dark",
    });
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
