import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, it } from "vitest";
import { driveCartApp } from "../../../scripts/newcomer/drive.mjs";

// The example augments KoaSessions with its own data types, which clash with
// the other tests' augmentations: it is type-checked in its own program
// (tsconfig.readme.json), so it is imported here through a non-literal path.
const example = "./readme-example.js";

it("the README example keeps a cart per browser session and logs out", async () => {
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  process.env.PORT = "0";
  const { server } = (await import(example)) as { server: Server };
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
