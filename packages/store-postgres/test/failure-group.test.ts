import { failureGroup, getPostgresUrl } from "@sessionkit/conformance";
import { createPostgresStore, type PostgresStore } from "@sessionkit/store-postgres";
import type pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { createSchema, dropSchema, openAdminPool } from "./helpers.js";

let admin: pg.Pool;
beforeAll(async () => {
  admin = await openAdminPool();
});
afterAll(async () => {
  await admin.end();
});

failureGroup<PostgresStore>({
  async target() {
    const url = new URL(await getPostgresUrl());
    return { host: url.hostname, port: url.port === "" ? 5432 : Number(url.port) };
  },
  async createStore({ host, port }, timeoutMs) {
    // The schema and table are made directly; only the store's own traffic goes through the proxy.
    const schema = await createSchema(admin);
    const direct = createPostgresStore({
      connectionString: await getPostgresUrl(),
      schema,
      gcIntervalMs: false,
    });
    await direct.migrate();
    await direct.close();
    const url = new URL(await getPostgresUrl());
    url.hostname = host;
    url.port = String(port);
    return createPostgresStore({
      connectionString: url.toString(),
      schema,
      gcIntervalMs: false,
      statementTimeoutMs: timeoutMs,
      connectTimeoutMs: timeoutMs,
    });
  },
  async teardown(store) {
    await store.close();
    await dropSchema(admin, store.schema);
  },
});
