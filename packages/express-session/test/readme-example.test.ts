import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { driveCartApp } from "../../../scripts/newcomer/drive.mjs";

it("the README example keeps a cart in express-session on the SQLite store and logs out", async () => {
  // The example opens ./sessions.db: run it in a fresh temp directory.
  const previousCwd = process.cwd();
  const dir = mkdtempSync(join(tmpdir(), "sk_es_readme_"));
  process.chdir(dir);
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  process.env.PORT = "0";
  try {
    const { server } = await import("./readme-example.js");
    if (!server.listening) await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      expect(await driveCartApp(`http://127.0.0.1:${port}`)).toEqual({
        sessionCookies: ["connect.sid"],
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  } finally {
    process.chdir(previousCwd);
    rmSync(dir, { recursive: true, force: true });
  }
});
