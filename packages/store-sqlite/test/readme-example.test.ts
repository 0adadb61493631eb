import { once } from "node:events";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";

let previousCwd: string;
let dir: string;
beforeAll(() => {
  // The example uses relative paths: run it in a fresh temp directory.
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  delete process.env.SESSION_STORE_URL;
  previousCwd = process.cwd();
  dir = mkdtempSync(join(tmpdir(), "sk_sqlite_readme_"));
  process.chdir(dir);
});
afterAll(() => {
  process.chdir(previousCwd);
  rmSync(dir, { recursive: true, force: true });
});

it("the README example keeps a cart in ./sessions.db, created with mode 0600 (A33)", async () => {
  const { server, store } = await import("./readme-example.js");
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const added = await fetch(url, { method: "POST" });
    expect(await added.text()).toBe("1 item(s) in your cart\n");
    const cookie = added.headers.getSetCookie()[0]?.split(";")[0] ?? "";
    expect(await (await fetch(url, { headers: { cookie } })).text()).toBe(
      "1 item(s) in your cart\n",
    );
    expect(await store.count()).toBe(1);
    expect((statSync(join(dir, "sessions.db")).mode & 0o777).toString(8)).toBe("600");
  } finally {
    server.close();
    await store.close();
  }
});

it("the README's other ways to open the store work", async () => {
  const { otherWaysToOpen } = await import("./readme-example.js");
  const { database, shared, configured } = await otherWaysToOpen();
  expect(shared.name).toBe("sqlite");
  expect(configured.name).toBe("sqlite");
  await Promise.all([shared.close(), configured.close?.()]);
  expect(database.open).toBe(true);
  database.close();
});
