import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { expect, it } from "vitest";
import { driveCartApp } from "../../../scripts/newcomer/drive.mjs";

it("the README example keeps a cart per browser session and logs out", async () => {
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  process.env.PORT = "0";
  const { server } = await import("./readme-example.js");
  if (!server.listening) await once(server, "listening");
  try {
    const { port } = server.address() as AddressInfo;
    const { sessionCookies } = await driveCartApp(`http://127.0.0.1:${port}`);
    expect(sessionCookies).toEqual(["__Host-sid"]);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

it("the README Fetch example keeps a cart per browser session and logs out", async () => {
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  const { default: app } = await import("./readme-fetch-example.js");
  const { sessionCookies } = await driveCartApp("https://shop.test", {
    fetch: (url, init) => app.fetch(new Request(url, init)),
  });
  expect(sessionCookies).toEqual(["__Host-sid"]);
});
