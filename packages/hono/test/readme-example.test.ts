import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, it } from "vitest";
import { driveCartApp } from "../../../scripts/newcomer/drive.mjs";

it("the README example keeps a cart per browser session over @hono/node-server and logs out", async () => {
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  process.env.PORT = "0";
  const { server } = (await import("./readme-example.js")) as unknown as { server: Server };
  if (!server.listening) await once(server, "listening");
  try {
    const { port } = server.address() as AddressInfo;
    expect(await driveCartApp(`http://127.0.0.1:${port}`)).toEqual({
      sessionCookies: ["__Host-sid"],
    });
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
