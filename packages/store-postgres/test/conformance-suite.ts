import { describeStoreConformance } from "@sessionkit/conformance";
import type pg from "pg";
import { afterAll, beforeAll } from "vitest";
import type { PostgresStore } from "../src/index.js";
import {
  createTestStore,
  destroyTestStore,
  openAdminPool,
  type Route,
  tableOf,
} from "./helpers.js";

/**
 * The whole conformance suite over one route. Raw inspection of the rows
 * always goes straight to PostgreSQL, bypassing the store and any pooler.
 */
export function postgresConformance(route: Route): void {
  let admin: pg.Pool;
  beforeAll(async () => {
    admin = await openAdminPool();
  });
  afterAll(async () => {
    await admin.end();
  });

  describeStoreConformance<PostgresStore>(
    route === "direct" ? "postgres" : 'postgres behind PgBouncer (pooler: "transaction")',
    {
      // The store reads the suite's clock, so expiry is checked exactly, without sleeping.
      createStore: (context) => createTestStore(admin, { route, now: context.now }),
      clock: "suite",
      teardown: (store) => destroyTestStore(admin, store),
      inspect: {
        // Raw reads of the row, bypassing the store: present regardless of expiry.
        async exists(store, key) {
          const s = store as PostgresStore;
          const result = await admin.query(`SELECT 1 FROM ${tableOf(s)} WHERE key = $1`, [key]);
          return result.rowCount === 1;
        },
        async storedExpiresAt(store, key) {
          const s = store as PostgresStore;
          const result = await admin.query<{ expires_at: string }>(
            `SELECT expires_at FROM ${tableOf(s)} WHERE key = $1`,
            [key],
          );
          const row = result.rows[0];
          return row === undefined ? null : Number(row.expires_at);
        },
      },
    },
  );
}
