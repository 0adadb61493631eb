// Two application processes sharing one network store, as behind a load
// balancer: what one process does to a session is seen by the other on its
// very next request, because no process caches sessions (A22).
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Client } from "@sessionkit/adapter-scenarios";
import { getPostgresUrl, getRedisUrl, uniqueName } from "@sessionkit/conformance";
import { createPostgresStore } from "@sessionkit/store-postgres";
import { createRedisStore } from "@sessionkit/store-redis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

interface State {
  isNew: boolean;
  userId: string | null;
}

const packageDir = new URL("..", import.meta.url).pathname;

/** Starts one app process and resolves with its URL once it prints it. */
function startProcess(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ["--conditions=dev-source", "--import", "tsx", "test/fixtures/app-process.ts"],
    { cwd: packageDir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once("line", (url) => resolve({ url, child }));
    child.once("exit", (code) => reject(new Error(`app process exited early (${code})`)));
  });
}

/** A browser on one process, carrying another browser's cookies. */
function on(url: string, from?: Client): Client {
  const client = new Client(url);
  if (from) for (const [name, value] of from.cookies) client.cookies.set(name, value);
  return client;
}

const kinds = [
  {
    kind: "redis",
    url: getRedisUrl,
    async cleanup(url: string, namespace: string) {
      const store = createRedisStore({ url, prefix: namespace });
      await store.clear();
      await store.close();
    },
  },
  {
    kind: "postgres",
    url: getPostgresUrl,
    async prepare(url: string, namespace: string) {
      const store = createPostgresStore({
        url,
        schema: namespace,
        gcIntervalMs: false,
      });
      await store.migrate();
      await store.close();
    },
    async cleanup(url: string, namespace: string) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`);
      } finally {
        await admin.end();
      }
    },
  },
] as const;

for (const store of kinds) {
  describe(`two processes sharing ${store.kind}`, () => {
    const namespace = uniqueName("xproc");
    let url: string;
    let a: { url: string; child: ChildProcess };
    let b: { url: string; child: ChildProcess };

    beforeAll(async () => {
      url = await store.url();
      if ("prepare" in store) await store.prepare(url, namespace);
      const env = { STORE_KIND: store.kind, STORE_URL: url, STORE_NAMESPACE: namespace };
      [a, b] = await Promise.all([startProcess(env), startProcess(env)]);
    }, 60_000);

    afterAll(async () => {
      for (const app of [a, b]) {
        if (app === undefined) continue;
        const exited = new Promise((resolve) => app.child.once("exit", resolve));
        app.child.kill("SIGTERM");
        await exited;
      }
      await store.cleanup(url, namespace);
    });

    it("a session written through one process is read by the other", async () => {
      const browser = on(a.url);
      await browser.json("POST", "/login?user=ann");
      await browser.json("POST", "/cart?item=apple");
      const there = on(b.url, browser);
      expect(await there.json<State & { data: unknown }>("GET", "/state")).toMatchObject({
        isNew: false,
        userId: "ann",
        data: { user: "ann", cart: ["apple"] },
      });
    });

    it('"log out everywhere else" through one process ends the session on the other\'s next request (A21, A22)', async () => {
      const user = uniqueName("u");
      const laptop = on(a.url);
      const phone = on(b.url);
      await laptop.json("POST", `/login?user=${user}`);
      await phone.json("POST", `/login?user=${user}`);
      expect(await laptop.json("POST", "/logout-others")).toEqual({ destroyed: 1 });
      expect((await phone.json<State>("GET", "/state")).isNew).toBe(true);
      expect((await on(b.url, laptop).json<State>("GET", "/state")).userId).toBe(user);
    });

    it("regenerate() through one process kills the old id for the other at once (A16, A22)", async () => {
      const browser = on(a.url);
      await browser.json("POST", "/login?user=bo");
      const before = on(b.url, browser);
      await browser.json("POST", "/login?user=bo");
      expect((await before.json<State>("GET", "/state")).isNew).toBe(true);
      expect((await on(b.url, browser).json<State>("GET", "/state")).userId).toBe("bo");
    });
  });
}
