import { metrics, trace } from "@opentelemetry/api";
import { createSessionManager, type InstrumentedOperation } from "@sessionkit/core";
import { afterEach, describe, expect, it } from "vitest";
import { sessionTelemetry } from "../src/index.js";
import {
  cookieFrom,
  createSdk,
  histogramCounts,
  openStore,
  points,
  request,
  SECRET,
} from "./helpers.js";

const LOAD: InstrumentedOperation = {
  kind: "load",
  operation: "load",
  store: "memory",
  sessionName: "__Host-sid",
};

afterEach(() => {
  trace.disable();
  metrics.disable();
});

describe("sessionTelemetry() with the global providers", () => {
  it("wrap() hands back run()'s own promise while no SDK is registered", async () => {
    const instrumentation = sessionTelemetry();
    let reported = 0;
    const answer = Promise.resolve("value");
    const wrapped = instrumentation.wrap(LOAD, (details) => {
      details({ outcome: "none" });
      reported++;
      return answer;
    });
    // Not even a wrapping promise: the operation runs untouched.
    expect(wrapped).toBe(answer);
    await expect(wrapped).resolves.toBe("value");
    expect(reported).toBe(1);
    // And core does not even call wrap(): recording() tells it there is nothing to record.
    expect(instrumentation.recording?.()).toBe(false);
  });

  it("recording() turns true when an SDK registers, and stays false for what is switched off", async () => {
    const tracesOnly = sessionTelemetry({ metrics: false });
    const metricsOnly = sessionTelemetry({ traces: false });
    const nothing = sessionTelemetry({ traces: false, metrics: false });
    const sdk = createSdk();
    try {
      expect(trace.setGlobalTracerProvider(sdk.tracerProvider)).toBe(true);
      expect(tracesOnly.recording?.()).toBe(true);
      expect(metricsOnly.recording?.()).toBe(false);
      expect(metrics.setGlobalMeterProvider(sdk.meterProvider)).toBe(true);
      expect(metricsOnly.recording?.()).toBe(true);
      expect(nothing.recording?.()).toBe(false);
    } finally {
      await sdk.shutdown();
    }
  });

  it("an SDK registered after sessionTelemetry() is picked up at the next operation", async () => {
    const sdk = createSdk();
    const opened = await openStore("memory");
    try {
      const sessions = createSessionManager({
        store: opened.store,
        secrets: [SECRET],
        instrumentation: sessionTelemetry({ store: opened.store, liveSessions: true }),
      });
      const before = await sessions.load(request());
      const cookie = cookieFrom((await before.set("a", 1).commit()).headers);

      expect(trace.setGlobalTracerProvider(sdk.tracerProvider)).toBe(true);
      expect(metrics.setGlobalMeterProvider(sdk.meterProvider)).toBe(true);
      const after = await sessions.load(request(cookie));
      await after.set("a", 2).commit();

      expect(sdk.spans().map((span) => span.name)).toEqual([
        "session.store.get",
        "session.load",
        "session.store.set",
        "session.commit",
      ]);
      const collected = await sdk.collect();
      const common = { "session.store": "memory", "session.name": "__Host-sid" };
      expect(points(collected, "sessionkit.session.loads")).toEqual([
        { attributes: { ...common, "session.outcome": "found" }, value: 1 },
      ]);
      expect(points(collected, "sessionkit.session.commits")).toEqual([
        { attributes: { ...common, "session.outcome": "updated" }, value: 1 },
      ]);
      expect(histogramCounts(collected, "sessionkit.store.duration")).toEqual({
        "get ok": 1,
        "set ok": 1,
      });
      // The gauge joined the new meter provider with the other instruments.
      expect(points(collected, "sessionkit.sessions.live")).toEqual([
        { attributes: { "session.store": "memory" }, value: 1 },
      ]);
    } finally {
      await opened.cleanup();
      await sdk.shutdown();
    }
  });

  it("traces: false and metrics: false record nothing even with an SDK registered", async () => {
    const sdk = createSdk();
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    metrics.setGlobalMeterProvider(sdk.meterProvider);
    try {
      const instrumentation = sessionTelemetry({ traces: false, metrics: false });
      const answer = Promise.resolve(1);
      expect(instrumentation.wrap(LOAD, () => answer)).toBe(answer);
      const tracesOnly = sessionTelemetry({ metrics: false });
      await tracesOnly.wrap(LOAD, async (details) => details({ outcome: "none" }));
      expect(sdk.spans().map((span) => span.name)).toEqual(["session.load"]);
      expect(points(await sdk.collect(), "sessionkit.session.loads")).toEqual([]);
    } finally {
      await sdk.shutdown();
    }
  });
});

describe("sessionTelemetry(options) validation", () => {
  it("liveSessions without a store is a TypeError", () => {
    expect(() => sessionTelemetry({ liveSessions: true })).toThrow(
      new TypeError("sessionTelemetry({ liveSessions: true }) needs the manager's store"),
    );
  });

  it("liveSessions with a store that lacks the count capability is a TypeError", async () => {
    const opened = await openStore("memory");
    try {
      const store = {
        ...opened.store,
        name: "custom",
        capabilities: { ...opened.store.capabilities, count: false },
        get: opened.store.get.bind(opened.store),
        set: opened.store.set.bind(opened.store),
        destroy: opened.store.destroy.bind(opened.store),
      };
      expect(() => sessionTelemetry({ liveSessions: true, store })).toThrow(
        new TypeError(
          'sessionTelemetry({ liveSessions: true }): store "custom" does not declare the count capability',
        ),
      );
    } finally {
      await opened.cleanup();
    }
  });

  it("a live-sessions gauge whose count() fails reports no data point", async () => {
    const sdk = createSdk();
    const opened = await openStore("memory");
    try {
      const store = {
        ...opened.store,
        name: "flaky",
        capabilities: opened.store.capabilities,
        get: opened.store.get.bind(opened.store),
        set: opened.store.set.bind(opened.store),
        destroy: opened.store.destroy.bind(opened.store),
        count: () => Promise.reject(new Error("down")),
      };
      sessionTelemetry({ meterProvider: sdk.meterProvider, store, liveSessions: true });
      expect(points(await sdk.collect(), "sessionkit.sessions.live")).toEqual([]);
    } finally {
      await opened.cleanup();
      await sdk.shutdown();
    }
  });
});
