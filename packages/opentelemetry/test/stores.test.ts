import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { createSessionManager, type SessionStore } from "@sessionkit/core";
import { storeKeyOf } from "@sessionkit/core/store";
import { createPostgresStore } from "@sessionkit/store-postgres";
import { createRedisStore } from "@sessionkit/store-redis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sessionTelemetry } from "../src/index.js";
import {
  BACKENDS,
  type Backend,
  closedPort,
  cookieFrom,
  createSdk,
  histogramCounts,
  type OpenedStore,
  openStore,
  points,
  request,
  type Sdk,
  SECRET,
} from "./helpers.js";

/** Each span as `name <- parent name`, in the order they ended. */
function tree(spans: readonly ReadableSpan[]): string[] {
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  return spans.map((span) => {
    const parentId = span.parentSpanContext?.spanId;
    const parent = parentId === undefined ? undefined : byId.get(parentId);
    return `${span.name} <- ${parent?.name ?? (parentId === undefined ? "root" : "unknown")}`;
  });
}

const STORE_NAMES: Record<Backend, string> = {
  memory: "memory",
  sqlite: "sqlite",
  redis: "redis",
  postgres: "postgres",
};

describe.each(BACKENDS)("sessionTelemetry() over the %s store", (backend) => {
  let sdk: Sdk;
  let opened: OpenedStore;
  let store: SessionStore;

  beforeEach(async () => {
    sdk = createSdk();
    opened = await openStore(backend);
    store = opened.store;
  });

  afterEach(async () => {
    await opened.cleanup();
    await sdk.shutdown();
  });

  const manager = (options: { conflict?: "merge" | "error" } = {}) =>
    createSessionManager({
      store,
      secrets: [SECRET],
      ...options,
      instrumentation: sessionTelemetry({
        tracerProvider: sdk.tracerProvider,
        meterProvider: sdk.meterProvider,
        store,
        liveSessions: true,
      }),
    });

  /** Creates a session for `userId` and reads it back in a second request, both under a request span. */
  async function createAndRead(userId: string) {
    const sessions = manager();
    const tracer = sdk.tracerProvider.getTracer("test");
    const cookie = await tracer.startActiveSpan("request 1", async (span) => {
      const session = await sessions.load(request());
      session.set("count", 1).setUser(userId);
      const result = cookieFrom((await session.commit()).headers);
      span.end();
      return result;
    });
    await tracer.startActiveSpan("request 2", async (span) => {
      const session = await sessions.load(request(cookie));
      session.set("count", 2);
      await session.commit();
      span.end();
    });
    return cookie;
  }

  it("load and commit spans are children of the request span, store spans children of them", async () => {
    await createAndRead("user-tree");
    expect(tree(sdk.spans())).toEqual([
      "session.load <- request 1",
      "session.store.set <- session.commit",
      "session.commit <- request 1",
      "request 1 <- root",
      "session.store.get <- session.load",
      "session.load <- request 2",
      "session.store.set <- session.commit",
      "session.commit <- request 2",
      "request 2 <- root",
    ]);
    // Each store span belongs to the load or commit of its own request.
    const spans = sdk.spans();
    const traceOf = (index: number) => spans[index]?.spanContext().traceId;
    expect(new Set([0, 1, 2, 3].map(traceOf)).size).toBe(1);
    expect(new Set([4, 5, 6, 7, 8].map(traceOf)).size).toBe(1);
    expect(traceOf(0)).not.toBe(traceOf(4));
  });

  it("spans carry the store, cookie name, operation, outcome and retries", async () => {
    await createAndRead("user-attributes");
    const name = STORE_NAMES[backend];
    const common = { "session.store": name, "session.name": "__Host-sid" };
    const session = sdk.spans().filter((span) => span.name.startsWith("session."));
    expect(session.map((span) => [span.name, span.attributes, span.status.code])).toEqual([
      ["session.load", { ...common, "session.operation": "load", "session.outcome": "none" }, 0],
      ["session.store.set", { ...common, "session.operation": "set", "session.outcome": "ok" }, 0],
      [
        "session.commit",
        {
          ...common,
          "session.operation": "commit",
          "session.outcome": "created",
          "session.conflict_retries": 0,
        },
        0,
      ],
      ["session.store.get", { ...common, "session.operation": "get", "session.outcome": "ok" }, 0],
      ["session.load", { ...common, "session.operation": "load", "session.outcome": "found" }, 0],
      ["session.store.set", { ...common, "session.operation": "set", "session.outcome": "ok" }, 0],
      [
        "session.commit",
        {
          ...common,
          "session.operation": "commit",
          "session.outcome": "updated",
          "session.conflict_retries": 0,
        },
        0,
      ],
    ]);
  });

  it("no span or metric holds the token, the store key or the user id", async () => {
    const userId = `user-${crypto.randomUUID()}`;
    const cookie = await createAndRead(userId);
    const token = cookie.slice(cookie.indexOf("=") + 1);
    const id = token.slice(0, token.indexOf("."));
    expect(id.length).toBeGreaterThan(20);
    const exported = JSON.stringify({
      spans: sdk.spans().map((span) => ({
        name: span.name,
        attributes: span.attributes,
        events: span.events,
        status: span.status,
      })),
      metrics: (await sdk.collect()).scopeMetrics,
    });
    expect(exported).toContain("session.store.set");
    expect(exported).not.toContain(token);
    expect(exported).not.toContain(id);
    expect(exported).not.toContain(storeKeyOf(id));
    expect(exported).not.toContain(userId);
  });

  it("counters, the store latency histogram and the live-sessions gauge hold exact values", async () => {
    await createAndRead("user-metrics-1");
    await createAndRead("user-metrics-2");
    const metrics = await sdk.collect();
    const name = STORE_NAMES[backend];
    const common = { "session.store": name, "session.name": "__Host-sid" };
    expect(points(metrics, "sessionkit.session.loads")).toEqual([
      { attributes: { ...common, "session.outcome": "none" }, value: 2 },
      { attributes: { ...common, "session.outcome": "found" }, value: 2 },
    ]);
    expect(points(metrics, "sessionkit.session.commits")).toEqual([
      { attributes: { ...common, "session.outcome": "created" }, value: 2 },
      { attributes: { ...common, "session.outcome": "updated" }, value: 2 },
    ]);
    expect(histogramCounts(metrics, "sessionkit.store.duration")).toEqual({
      "set ok": 4,
      "get ok": 2,
    });
    expect(points(metrics, "sessionkit.sessions.live")).toEqual([
      { attributes: { "session.store": name }, value: 2 },
    ]);
    expect(points(metrics, "sessionkit.session.conflicts")).toEqual([]);
  });

  it("a commit that merged a concurrent write counts a conflict and its retry", async () => {
    const sessions = manager();
    const first = await sessions.load(request());
    const cookie = cookieFrom((await first.set("a", 1).commit()).headers);
    const one = await sessions.load(request(cookie));
    const two = await sessions.load(request(cookie));
    await one.set("b", 2).commit();
    sdk.exporter.reset();
    await two.set("c", 3).commit();
    expect(tree(sdk.spans())).toEqual([
      "session.store.set <- session.commit",
      "session.store.get <- session.commit",
      "session.store.set <- session.commit",
      "session.commit <- root",
    ]);
    expect(sdk.spans()[3]?.attributes["session.conflict_retries"]).toBe(1);
    const metrics = await sdk.collect();
    const common = { "session.store": STORE_NAMES[backend], "session.name": "__Host-sid" };
    expect(points(metrics, "sessionkit.session.conflicts")).toEqual([
      { attributes: { ...common, "session.resolution": "merged" }, value: 1 },
    ]);
    expect(points(metrics, "sessionkit.session.conflict_retries")).toEqual([
      { attributes: common, value: 1 },
    ]);
  });

  it('a commit rejected by conflict: "error" has an ERROR span and counts a rejected conflict', async () => {
    const sessions = manager({ conflict: "error" });
    const first = await sessions.load(request());
    const cookie = cookieFrom((await first.set("a", 1).commit()).headers);
    const one = await sessions.load(request(cookie));
    const two = await sessions.load(request(cookie));
    await one.set("a", 2).commit();
    sdk.exporter.reset();
    await expect(two.set("a", 3).commit()).rejects.toMatchObject({ code: "CONFLICT" });
    const commit = sdk.spans().find((span) => span.name === "session.commit");
    expect(commit?.status).toEqual({ code: 2, message: "CONFLICT" });
    expect(commit?.attributes["error.type"]).toBe("CONFLICT");
    expect(commit?.attributes["session.outcome"]).toBe("error");
    const metrics = await sdk.collect();
    const common = { "session.store": STORE_NAMES[backend], "session.name": "__Host-sid" };
    expect(points(metrics, "sessionkit.session.conflicts")).toEqual([
      { attributes: { ...common, "session.resolution": "rejected" }, value: 1 },
    ]);
    expect(points(metrics, "sessionkit.session.commits")).toContainEqual({
      attributes: { ...common, "session.outcome": "error", "error.type": "CONFLICT" },
      value: 1,
    });
  });
});

/** A store of each backend that fails every call, and the code core reports for it. */
async function failingStore(
  backend: Backend,
): Promise<{ store: SessionStore; code: string; close(): Promise<void> }> {
  if (backend === "memory") {
    const opened = await openStore("memory");
    const failing: SessionStore = {
      ...opened.store,
      name: "memory",
      capabilities: opened.store.capabilities,
      get: () => Promise.reject(new Error("down")),
      set: () => Promise.reject(new Error("down")),
      destroy: () => Promise.reject(new Error("down")),
    };
    return { store: failing, code: "STORE_ERROR", close: opened.cleanup };
  }
  if (backend === "sqlite") {
    // A closed store: its database handle is gone.
    const opened = await openStore("sqlite");
    await opened.store.close?.();
    return { store: opened.store, code: "STORE_UNAVAILABLE", close: opened.cleanup };
  }
  const port = await closedPort();
  if (backend === "redis") {
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}`, prefix: "skotel_closed" });
    return { store, code: "STORE_UNAVAILABLE", close: async () => void (await store.close?.()) };
  }
  const store = createPostgresStore({
    url: `postgres://postgres@127.0.0.1:${port}/test`,
    operationTimeoutMs: 1_000,
  });
  return { store, code: "STORE_UNAVAILABLE", close: async () => void (await store.close?.()) };
}

describe.each(BACKENDS)("sessionTelemetry() when the %s store fails", (backend) => {
  it("the load and store spans have ERROR status and error.type, the metrics count the error", async () => {
    const sdk = createSdk();
    const failing = await failingStore(backend);
    const working = await openStore("memory");
    try {
      // A valid signed cookie, so the failing manager reaches its store.
      const issuer = createSessionManager({ store: working.store, secrets: [SECRET] });
      const first = await issuer.load(request());
      const cookie = cookieFrom((await first.set("a", 1).commit()).headers);

      const sessions = createSessionManager({
        store: failing.store,
        secrets: [SECRET],
        instrumentation: sessionTelemetry({
          tracerProvider: sdk.tracerProvider,
          meterProvider: sdk.meterProvider,
        }),
      });
      const error = await sessions.load(request(cookie)).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code: failing.code });
      const name = failing.store.name;
      const common = { "session.store": name, "session.name": "__Host-sid" };
      const failure = { "session.outcome": "error", "error.type": failing.code };
      expect(
        sdk.spans().map((span) => [span.name, span.attributes, span.status, span.events.length]),
      ).toEqual([
        [
          "session.store.get",
          { ...common, "session.operation": "get", ...failure },
          { code: 2, message: failing.code },
          0,
        ],
        [
          "session.load",
          { ...common, "session.operation": "load", ...failure },
          { code: 2, message: failing.code },
          0,
        ],
      ]);
      const metrics = await sdk.collect();
      expect(points(metrics, "sessionkit.session.loads")).toEqual([
        { attributes: { ...common, ...failure }, value: 1 },
      ]);
      expect(histogramCounts(metrics, "sessionkit.store.duration")).toEqual({ "get error": 1 });
      // Errors never leak a connection string into the telemetry.
      expect(JSON.stringify(sdk.spans().map((span) => span.attributes))).not.toContain("127.0.0.1");
    } finally {
      await failing.close();
      await working.cleanup();
      await sdk.shutdown();
    }
  });
});
