import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { getPostgresUrl, getRedisUrl, uniqueName } from "@sessionkit/conformance";
import type { SessionStore } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";
import { createPostgresStore } from "@sessionkit/store-postgres";
import { createRedisStore } from "@sessionkit/store-redis";
import { createSqliteStore } from "@sessionkit/store-sqlite";
import { Redis } from "ioredis";
import pg from "pg";

/** A secret for the test managers (never a real one). */
export const SECRET = "opentelemetry-test-secret-0123456789-abcdefghij";

/** A metric reader whose collect() the test calls. */
class ManualReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** A real SDK tracer and meter provider with in-memory export. */
export interface Sdk {
  readonly tracerProvider: TracerProvider;
  readonly meterProvider: MeterProvider;
  readonly exporter: InMemorySpanExporter;
  spans(): ReadableSpan[];
  collect(): Promise<ResourceMetrics>;
  shutdown(): Promise<void>;
}

let contextManagerSet = false;

export function createSdk(): Sdk {
  // Spans nest through AsyncLocalStorage, as under the Node SDK.
  if (!contextManagerSet) {
    contextManagerSet = context.setGlobalContextManager(
      new AsyncLocalStorageContextManager().enable(),
    );
  }
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new Error(`metric collection failed: ${String(errors[0])}`);
      return resourceMetrics;
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** The data points of one metric, as `{ attributes, value }`. */
export function points(
  metrics: ResourceMetrics,
  name: string,
): { attributes: Record<string, unknown>; value: unknown }[] {
  const found = metrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name);
  return found.flatMap((metric) =>
    (metric.dataPoints as DataPoint<unknown>[]).map((point) => ({
      attributes: { ...point.attributes },
      value: point.value,
    })),
  );
}

/** Histogram data points reduced to their count, keyed by operation and outcome. */
export function histogramCounts(metrics: ResourceMetrics, name: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const point of points(metrics, name)) {
    const key = `${String(point.attributes["session.operation"])} ${String(point.attributes["session.outcome"])}`;
    counts[key] = (counts[key] ?? 0) + (point.value as Histogram).count;
  }
  return counts;
}

/** A store of one backend, and how to remove everything it wrote. */
export interface OpenedStore {
  readonly store: SessionStore;
  cleanup(): Promise<void>;
}

export type Backend = "memory" | "sqlite" | "redis" | "postgres";
export const BACKENDS: readonly Backend[] = ["memory", "sqlite", "redis", "postgres"];

/** A fresh, isolated store on the real backend: own file, key prefix or schema. */
export async function openStore(backend: Backend): Promise<OpenedStore> {
  if (backend === "memory") {
    const store = createMemoryStore();
    return { store, cleanup: async () => store.close?.() };
  }
  if (backend === "sqlite") {
    const path = join(tmpdir(), `${uniqueName("sk_otel")}.db`);
    const store = createSqliteStore({ url: `sqlite:${path}` });
    return {
      store,
      async cleanup() {
        await store.close?.();
        for (const suffix of ["", "-wal", "-shm", "-journal"])
          rmSync(`${path}${suffix}`, { force: true });
      },
    };
  }
  if (backend === "redis") {
    const url = await getRedisUrl();
    const prefix = uniqueName("skotel");
    const store = createRedisStore({ url, prefix });
    return {
      store,
      async cleanup() {
        await store.close?.();
        const raw = new Redis(url);
        try {
          let cursor = "0";
          do {
            const [next, keys] = await raw.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1_000);
            await Promise.all(keys.map((key) => raw.unlink(key)));
            cursor = next;
          } while (cursor !== "0");
        } finally {
          await raw.quit();
        }
      },
    };
  }
  const url = await getPostgresUrl();
  const schema = uniqueName("skotel");
  const store = createPostgresStore({ url, schema });
  return {
    store,
    async cleanup() {
      await store.close?.();
      const admin = new pg.Pool({ connectionString: url, max: 1 });
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A loopback port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The `name=value` pair of the first Set-Cookie header. */
export function cookieFrom(headers: readonly (readonly [string, string])[]): string {
  const setCookie = headers.find(([name]) => name.toLowerCase() === "set-cookie")?.[1];
  if (setCookie === undefined) throw new Error("no Set-Cookie header");
  return setCookie.slice(0, setCookie.indexOf(";"));
}

/** A request as sessionkit sees it, with an optional cookie. */
export function request(cookie?: string): Request {
  return new Request("https://app.test/", cookie === undefined ? {} : { headers: { cookie } });
}
