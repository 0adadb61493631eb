import { once } from "node:events";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { driveCartApp } from "../../../scripts/newcomer/drive.mjs";

let previousCwd: string;
let dir: string;
beforeAll(() => {
  // The examples use relative paths: run them in a fresh temp directory.
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  process.env.PORT = "0";
  delete process.env.SESSION_STORE_URL;
  previousCwd = process.cwd();
  dir = mkdtempSync(join(tmpdir(), "sk_sqlite_readme_"));
  process.chdir(dir);
});
afterAll(() => {
  process.chdir(previousCwd);
  rmSync(dir, { recursive: true, force: true });
});

it("the README example keeps a cart in ./sessions.db (mode 0600, A33) and logs out", async () => {
  const { server, store } = await import("./readme-example.js");
  if (!server.listening) await once(server, "listening");
  try {
    const { port } = server.address() as AddressInfo;
    expect(await driveCartApp(`http://127.0.0.1:${port}`)).toEqual({
      sessionCookies: ["__Host-sid"],
    });
    expect(await store.count()).toBe(0);
    expect((statSync(join(dir, "sessions.db")).mode & 0o777).toString(8)).toBe("600");
  } finally {
    server.closeAllConnections();
    server.close();
    await store.close();
  }
});

it("the README's other ways to open the store work", async () => {
  const { database, shared, configured } = await import("./readme-example-open.js");
  expect(shared.name).toBe("sqlite");
  expect(configured.name).toBe("sqlite");
  await Promise.all([shared.close(), configured.close?.()]);
  expect(database.open).toBe(true);
  database.close();
});
