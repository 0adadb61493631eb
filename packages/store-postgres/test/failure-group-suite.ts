import { failureGroup } from "@sessionkit/conformance";
import { createPostgresStore, type PostgresStore } from "@sessionkit/store-postgres";
import type pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { createSchema, dropSchema, openAdminPool, type Route, routeOptions } from "./helpers.js";

/** The conformance failure group (A18, A30) with the fault proxy in front of the route's server. */
export function postgresFailureGroup(route: Route): void {
  let admin: pg.Pool;
  beforeAll(async () => {
    admin = await openAdminPool();
  });
  afterAll(async () => {
    await admin.end();
  });

  failureGroup<PostgresStore>({
    async target() {
      const url = new URL((await routeOptions(route)).url);
      return { host: url.hostname, port: url.port === "" ? 5432 : Number(url.port) };
    },
    async createStore({ host, port }, timeoutMs) {
      // The schema and table are made first; only the store's own traffic goes through the proxy.
      const { url, pooler } = await routeOptions(route);
      const schema = await createSchema(admin);
      const direct = createPostgresStore({ url, pooler, schema, gcIntervalMs: false });
      await direct.migrate();
      await direct.close();
      const proxied = new URL(url);
      proxied.hostname = host;
      proxied.port = String(port);
      return createPostgresStore({
        url: proxied.toString(),
        pooler,
        schema,
        gcIntervalMs: false,
        operationTimeoutMs: timeoutMs,
      });
    },
    async teardown(store) {
      await store.close();
      await dropSchema(admin, store.schema);
    },
  });
}
