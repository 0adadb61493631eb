import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { expect, it } from "vitest";
import { driveCartApp } from "../../../scripts/newcomer/drive.mjs";

// The example augments FastifySessions with its own data types, which clash
// with the other tests' augmentations: it is type-checked in its own program
// (tsconfig.readme.json), so it is imported here through a non-literal path.
const example = "./readme-example.js";

it("the README example keeps a cart per browser session and logs out", async () => {
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  process.env.PORT = "0";
  const { app } = (await import(example)) as { app: FastifyInstance };
  try {
    const { port } = app.server.address() as AddressInfo;
    expect(await driveCartApp(`http://127.0.0.1:${port}`)).toEqual({
      sessionCookies: ["__Host-sid"],
    });
  } finally {
    await app.close();
  }
});
