import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";

it("the README example counts visits in express-session on the SQLite store", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sk_es_readme_"));
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  process.env.SESSIONS_DB = join(dir, "sessions.db");
  const { app } = await import("./readme-example.js");
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const first = await fetch(url);
    expect(await first.text()).toBe("You have visited 1 time(s).\n");
    const cookie = first.headers.getSetCookie()[0]?.split(";")[0] ?? "";
    expect(cookie).toMatch(/^connect\.sid=/);
    const second = await fetch(url, { headers: { cookie } });
    expect(await second.text()).toBe("You have visited 2 time(s).\n");
  } finally {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
