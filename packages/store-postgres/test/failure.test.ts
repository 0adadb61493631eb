import { FaultProxy, getPostgresUrl, randomKey, uniqueName } from "@sessionkit/conformance";
import type { SessionError } from "@sessionkit/core";
import type pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPostgresStore } from "../src/index.js";
import { MIGRATE_LOCK_CLASS } from "../src/schema.js";
import { createSchema, dropSchema, openAdminPool, tableOf } from "./helpers.js";

// Checklist A30 (timeouts, fail closed with a typed error, no unhandled
// rejection, automatic recovery), A32 (statement timeout, clients released)
// and A39 (no connection string in errors).

let admin: pg.Pool;
let url: string;
let schema: string;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  admin = await openAdminPool();
  url = await getPostgresUrl();
  schema = await createSchema(admin);
  // The table every store of this file shares; migrated once here.
  const setup = createPostgresStore({ url, schema, gcIntervalMs: false });
  await setup.migrate();
  await setup.close();
});
afterEach(async () => {
  // Give any stray rejection a chance to surface before checking.
  await new Promise((resolve) => setImmediate(resolve));
  const seen = unhandled.splice(0);
  expect(seen).toEqual([]);
});
afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await dropSchema(admin, schema);
  await admin.end();
});

const record = () => {
  const now = Date.now();
  return { payload: '{"a":1}', createdAt: now, expiresAt: now + 60_000, version: 1 };
};

/** The same server URL with another host/port and credentials left as they are. */
function urlWithEndpoint(host: string, port: number, password?: string): string {
  const u = new URL(url);
  u.hostname = host;
  u.port = String(port);
  if (password !== undefined) u.password = password;
  return u.toString();
}

describe("failure behaviour", () => {
  it("a store pointed at a closed port rejects with STORE_UNAVAILABLE within operationTimeoutMs + 1 s, without leaking the URL (A30, A39)", async () => {
    const store = createPostgresStore({
      url: urlWithEndpoint("127.0.0.1", 1, "hunter2-secret"),
      schema,
      operationTimeoutMs: 2_000,
      gcIntervalMs: false,
    });
    try {
      for (const operation of ["get", "set", "gc"] as const) {
        const started = performance.now();
        const attempt =
          operation === "get"
            ? store.get(randomKey())
            : operation === "set"
              ? store.set(randomKey(), record(), { ifVersion: 0 })
              : store.gc();
        const error = (await attempt.then(
          () => null,
          (e: unknown) => e,
        )) as SessionError | null;
        expect(performance.now() - started).toBeLessThan(2_000 + 1_000);
        expect(error).toMatchObject({
          name: "SessionError",
          code: "STORE_UNAVAILABLE",
          store: "postgres",
          operation,
        });
        expect(error?.cause).toBeDefined();
        expect(String(error?.message)).not.toContain("hunter2-secret");
        // host:port may appear (it helps operators); the URL itself never does.
        expect(String(error?.message)).not.toMatch(/postgres(ql)?:\/\//);
      }
    } finally {
      await store.close();
    }
  });

  it("get(key) waiting on an ACCESS EXCLUSIVE lock fails with STORE_TIMEOUT within operationTimeoutMs + 1 s, the server cancels the statement, and get works once the lock is gone (A30, A32)", async () => {
    const applicationName = uniqueName("skpg_app");
    const store = createPostgresStore({
      url,
      schema,
      operationTimeoutMs: 500,
      gcIntervalMs: false,
      poolConfig: { application_name: applicationName },
    });
    const key = randomKey();
    const holder = await admin.connect();
    try {
      await store.set(key, record(), { ifVersion: 0 });
      await holder.query("BEGIN");
      await holder.query(`LOCK TABLE ${tableOf(store)} IN ACCESS EXCLUSIVE MODE`);
      const started = performance.now();
      await expect(store.get(key)).rejects.toMatchObject({
        name: "SessionError",
        code: "STORE_TIMEOUT",
        store: "postgres",
        operation: "get",
      });
      expect(performance.now() - started).toBeLessThan(500 + 1_000);
      // The statement_timeout the store set stops the server-side work too:
      // nothing of the store's still waits on the lock, which is still held,
      // well before the client-side read timeout (operationTimeoutMs + 500 ms)
      // would drop the connection.
      await expect
        .poll(
          async () => {
            const waiting = await admin.query(
              "SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
              [applicationName],
            );
            return waiting.rowCount;
          },
          { timeout: 300 },
        )
        .toBe(0);
      await expect(store.set(randomKey(), record(), { ifVersion: 0 })).rejects.toMatchObject({
        code: "STORE_TIMEOUT",
      });
      await holder.query("ROLLBACK");
      expect((await store.get(key))?.payload).toBe('{"a":1}');
    } finally {
      // Destroyed, not pooled: a failed test may leave its transaction open.
      holder.release(true);
      await store.close();
    }
  });

  it("an operation whose server connection is terminated fails with STORE_UNAVAILABLE, and the next one reconnects (A30)", async () => {
    const applicationName = uniqueName("skpg_app");
    const errors: SessionError[] = [];
    const operations: string[] = [];
    const store = createPostgresStore({
      url,
      schema,
      gcIntervalMs: false,
      poolConfig: { application_name: applicationName, max: 1 },
      onError: (error, { operation }) => {
        errors.push(error);
        operations.push(operation);
      },
    });
    const key = randomKey();
    const holder = await admin.connect();
    try {
      await store.set(key, record(), { ifVersion: 0 });
      // An idle pooled connection killed by the server: the pool emits "error",
      // which must reach onError instead of crashing the process.
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        [applicationName],
      );
      await expect.poll(() => errors.length, { timeout: 2_000 }).toBe(1);
      expect(errors[0]?.code).toBe("STORE_UNAVAILABLE");
      expect(operations).toEqual(["idle-connection"]);
      expect((await store.get(key))?.payload).toBe('{"a":1}');

      // A connection killed in the middle of a statement (57P01).
      await holder.query("BEGIN");
      await holder.query(`LOCK TABLE ${tableOf(store)} IN ACCESS EXCLUSIVE MODE`);
      // Settled into a value at once, so the rejection is handled before it happens.
      const pending = store.get(key).then(
        () => null,
        (e: unknown) => e,
      );
      await expect
        .poll(async () => {
          const r = await admin.query(
            "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
            [applicationName],
          );
          return r.rowCount;
        })
        .toBe(1);
      expect(await pending).toMatchObject({ code: "STORE_UNAVAILABLE", operation: "get" });
      await holder.query("ROLLBACK");
      expect((await store.get(key))?.payload).toBe('{"a":1}');
    } finally {
      // Destroyed, not pooled: a failed test may leave its transaction open.
      holder.release(true);
      await store.close();
    }
  });

  it("migrate() and gc() fail with STORE_UNAVAILABLE, without crashing, when their dedicated connection is killed (A30)", async () => {
    const applicationName = uniqueName("skpg_app");
    const store = createPostgresStore({
      url,
      schema,
      gcIntervalMs: false,
      operationTimeoutMs: 10_000,
      poolConfig: { application_name: applicationName },
    });
    const holder = await admin.connect();
    const killWaiter = () =>
      expect
        .poll(async () => {
          const r = await admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
            [applicationName],
          );
          return r.rowCount;
        })
        .toBe(1);
    try {
      await holder.query("SELECT pg_advisory_lock($1, hashtext($2))", [MIGRATE_LOCK_CLASS, schema]);
      const migrating = store.migrate().then(
        () => null,
        (e: unknown) => e,
      );
      await killWaiter();
      expect(await migrating).toMatchObject({ code: "STORE_UNAVAILABLE", operation: "migrate" });
      await holder.query("SELECT pg_advisory_unlock($1, hashtext($2))", [
        MIGRATE_LOCK_CLASS,
        schema,
      ]);

      await holder.query("BEGIN");
      await holder.query(`LOCK TABLE "${schema}".sessionkit_sessions IN ACCESS EXCLUSIVE MODE`);
      const pruning = store.gc().then(
        () => null,
        (e: unknown) => e,
      );
      await killWaiter();
      expect(await pruning).toMatchObject({ code: "STORE_UNAVAILABLE", operation: "gc" });
      await holder.query("ROLLBACK");
      // Every row of this file's schema is live: nothing to prune (review B-1).
      expect(await store.gc()).toBe(0);
      expect((await store.migrate()).toVersion).toBe(1);
    } finally {
      // Destroyed, not pooled: a failed test may leave its transaction open.
      holder.release(true);
      await store.close();
    }
  });

  it("a server that stops answering gives STORE_TIMEOUT within operationTimeoutMs + 1 s, and the store recovers when it answers again (A30)", async () => {
    const target = new URL(url);
    const proxy = await FaultProxy.start({
      host: target.hostname,
      port: Number(target.port || 5432),
    });
    const store = createPostgresStore({
      url: urlWithEndpoint("127.0.0.1", proxy.port),
      schema,
      operationTimeoutMs: 500,
      gcIntervalMs: false,
    });
    const key = randomKey();
    try {
      await store.set(key, record(), { ifVersion: 0 });
      await proxy.inject("black-hole");
      const started = performance.now();
      await expect(store.get(key)).rejects.toMatchObject({
        code: "STORE_TIMEOUT",
        operation: "get",
      });
      expect(performance.now() - started).toBeLessThan(500 + 1_000);
      // With the pooled connection discarded, a new one cannot be opened either.
      await expect(store.get(key)).rejects.toMatchObject({ code: "STORE_TIMEOUT" });
      await proxy.inject("none");
      expect((await store.get(key))?.payload).toBe('{"a":1}');
    } finally {
      await store.close();
      await proxy.close();
    }
  });
});
