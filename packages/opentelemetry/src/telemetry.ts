import {
  type Attributes,
  type Counter,
  context,
  createNoopMeter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  ProxyTracerProvider,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
  ValueType,
} from "@opentelemetry/api";
import {
  type InstrumentedOperation,
  isSessionError,
  type OperationDetails,
  type SessionInstrumentation,
  type SessionStore,
} from "@sessionkit/core";

/** Default instrumentation scope name of the tracer and the meter. */
export const TELEMETRY_SCOPE = "@sessionkit/opentelemetry";

/** Names of the spans, metrics and attributes this package records. */
export const TelemetryNames = {
  /** Span around `sessions.load(request)`. */
  LOAD_SPAN: "session.load",
  /** Span around `session.commit()`. */
  COMMIT_SPAN: "session.commit",
  /** Prefix of the span around one store call: `session.store.get`, `session.store.set`, … */
  STORE_SPAN_PREFIX: "session.store.",
  /** Counter of loads, by `session.outcome` (`found`, `none`, `error`). */
  LOADS: "sessionkit.session.loads",
  /** Counter of commits, by `session.outcome` (`created`, `updated`, …, `error`). */
  COMMITS: "sessionkit.session.commits",
  /** Counter of commits that met a concurrent write, by `session.resolution` (`merged`, `rejected`). */
  CONFLICTS: "sessionkit.session.conflicts",
  /** Counter of compare-and-set retries after concurrent writes. */
  CONFLICT_RETRIES: "sessionkit.session.conflict_retries",
  /** Histogram of store call durations in ms, by operation and `session.outcome` (`ok`, `error`). */
  STORE_DURATION: "sessionkit.store.duration",
  /** Observable gauge of live sessions in the store (opt-in: `liveSessions`). */
  LIVE_SESSIONS: "sessionkit.sessions.live",
  /** Attribute: the store's name, such as `redis`. */
  STORE: "session.store",
  /** Attribute: the session cookie's name, which tells several managers apart. */
  SESSION_NAME: "session.name",
  /** Attribute: `load`, `commit`, or the store call (`get`, `set`, `rename`, …). */
  OPERATION: "session.operation",
  /** Attribute: what the operation did. */
  OUTCOME: "session.outcome",
  /** Attribute: compare-and-set retries of a commit. */
  CONFLICT_RETRIES_ATTRIBUTE: "session.conflict_retries",
  /** Attribute: how a conflict ended, `merged` or `rejected`. */
  RESOLUTION: "session.resolution",
  /** Attribute: the `SessionError` code of a failure (`STORE_UNAVAILABLE`, …), `TypeError` or `_OTHER`. */
  ERROR_TYPE: "error.type",
} as const;

/** Options of {@link sessionTelemetry}. */
export interface SessionTelemetryOptions {
  /**
   * Where spans go. When unset, the global provider of `@opentelemetry/api`
   * is looked up on every operation, so an SDK started after
   * `sessionTelemetry()` is picked up.
   * @default trace.getTracerProvider()
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * Where metrics go. When unset, the global provider of `@opentelemetry/api`
   * is looked up on every operation; the instruments are created on the
   * first operation after a provider is registered.
   * @default metrics.getMeterProvider()
   */
  readonly meterProvider?: MeterProvider;
  /**
   * Instrumentation scope name of the tracer and the meter.
   * @default "@sessionkit/opentelemetry"
   */
  readonly name?: string;
  /** Instrumentation scope version of the tracer and the meter. @default undefined */
  readonly version?: string;
  /** `false` records no spans. @default true */
  readonly traces?: boolean;
  /** `false` records no metrics. @default true */
  readonly metrics?: boolean;
  /**
   * Report the number of live sessions as the observable gauge
   * `sessionkit.sessions.live`: each metric collection calls `store.count()`
   * once. Needs `store`, and a store that declares the `count` capability.
   * @default false
   */
  readonly liveSessions?: boolean;
  /** The manager's store, for `liveSessions`. @default undefined */
  readonly store?: SessionStore;
}

/** The metric instruments of one meter. */
interface Instruments {
  readonly loads: Counter;
  readonly commits: Counter;
  readonly conflicts: Counter;
  readonly conflictRetries: Counter;
  readonly storeDuration: Histogram;
}

// The global API answers with this provider until an SDK registers one; a
// tracer from it only makes non-recording spans, so nothing is started at all.
const NOOP_TRACER_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate();
const NOOP_METER: Meter = createNoopMeter();

function errorType(error: unknown): string {
  if (isSessionError(error)) return error.code;
  if (error instanceof TypeError) return "TypeError";
  return "_OTHER";
}

function createInstruments(meter: Meter, options: SessionTelemetryOptions): Instruments {
  const counter = (name: string, description: string, unit: string) =>
    meter.createCounter(name, { description, unit, valueType: ValueType.INT });
  const instruments: Instruments = {
    loads: counter(
      TelemetryNames.LOADS,
      "Session loads, by outcome (found, none, error).",
      "{load}",
    ),
    commits: counter(
      TelemetryNames.COMMITS,
      "Session commits, by outcome (created, updated, touched, …, error).",
      "{commit}",
    ),
    conflicts: counter(
      TelemetryNames.CONFLICTS,
      "Commits that met a concurrent write, by resolution (merged, rejected).",
      "{commit}",
    ),
    conflictRetries: counter(
      TelemetryNames.CONFLICT_RETRIES,
      "Compare-and-set retries of commits after a concurrent write.",
      "{retry}",
    ),
    storeDuration: meter.createHistogram(TelemetryNames.STORE_DURATION, {
      description: "Duration of each session store call, by operation and outcome (ok, error).",
      unit: "ms",
      valueType: ValueType.DOUBLE,
      advice: {
        explicitBucketBoundaries: [
          0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 3000,
        ],
      },
    }),
  };
  const { store } = options;
  if (options.liveSessions === true && store !== undefined) {
    const attributes: Attributes = { [TelemetryNames.STORE]: store.name };
    meter
      .createObservableGauge(TelemetryNames.LIVE_SESSIONS, {
        description: "Live sessions in the store, counted at each metric collection.",
        unit: "{session}",
        valueType: ValueType.INT,
      })
      .addCallback(async (result) => {
        try {
          const count = await store.count?.();
          if (typeof count === "number") result.observe(count, attributes);
        } catch {
          // A store outage means no data point for this collection, not a failed export.
        }
      });
  }
  return instruments;
}

/**
 * OpenTelemetry traces and metrics for a session manager: pass the result as
 * `createSessionManager({ instrumentation })`.
 *
 * Spans: `session.load` and `session.commit` around each request's load and
 * commit, and `session.store.<operation>` for each store call, as children
 * of the load or commit that made them. Metrics: the counters
 * `sessionkit.session.loads`, `sessionkit.session.commits`,
 * `sessionkit.session.conflicts` and `sessionkit.session.conflict_retries`,
 * the histogram `sessionkit.store.duration` (ms), and the opt-in gauge
 * `sessionkit.sessions.live`. No attribute ever holds a session token, a
 * store key or a user id.
 *
 * While no OpenTelemetry SDK is registered (the global API's no-op
 * providers), `recording()` says so and core runs each operation without
 * calling `wrap`: no span, no clock read, no allocation, no extra promise.
 *
 * @throws TypeError when `liveSessions` is set without a `store` that
 *   declares the `count` capability.
 *
 * @example
 * ```ts
 * const store = createRedisStore({ url: process.env.REDIS_URL });
 * const sessions = createSessionManager({
 *   store,
 *   secrets: [process.env.SESSION_SECRET],
 *   instrumentation: sessionTelemetry({ store, liveSessions: true }),
 * });
 * ```
 */
export function sessionTelemetry(options: SessionTelemetryOptions = {}): SessionInstrumentation {
  if (options === null || typeof options !== "object") {
    throw new TypeError("sessionTelemetry(options): options must be an object");
  }
  if (options.liveSessions === true) {
    const { store } = options;
    if (store === undefined) {
      throw new TypeError("sessionTelemetry({ liveSessions: true }) needs the manager's store");
    }
    if (store.capabilities?.count !== true || typeof store.count !== "function") {
      throw new TypeError(
        `sessionTelemetry({ liveSessions: true }): store "${store.name}" does not declare the count capability`,
      );
    }
  }
  const scope = options.name ?? TELEMETRY_SCOPE;
  const tracing = options.traces !== false;
  const metering = options.metrics !== false;

  let tracerProviderSeen: TracerProvider | undefined;
  let tracer: Tracer | undefined;
  /** The tracer to use now, or undefined while no SDK is there to record. */
  const currentTracer = (): Tracer | undefined => {
    const provider = options.tracerProvider ?? trace.getTracerProvider();
    if (provider !== tracerProviderSeen) {
      tracerProviderSeen = provider;
      tracer = provider.getTracer(scope, options.version);
    }
    // The global proxy delegates to the no-op provider until an SDK registers.
    if (
      provider instanceof ProxyTracerProvider &&
      provider.getDelegate() === NOOP_TRACER_PROVIDER
    ) {
      return undefined;
    }
    return tracer;
  };

  let meterProviderSeen: MeterProvider | undefined;
  let instruments: Instruments | undefined;
  /** The instruments to use now, or undefined while only the no-op meter exists. */
  const currentInstruments = (): Instruments | undefined => {
    const provider = options.meterProvider ?? metrics.getMeterProvider();
    if (provider !== meterProviderSeen) {
      meterProviderSeen = provider;
      const meter = provider.getMeter(scope, options.version);
      instruments = meter === NOOP_METER ? undefined : createInstruments(meter, options);
    }
    return instruments;
  };
  // Register the gauge now when a provider is already there, not at the first request.
  if (metering) currentInstruments();

  return {
    // Nothing registered to record: core runs each operation without calling wrap.
    recording: () =>
      (tracing && currentTracer() !== undefined) ||
      (metering && currentInstruments() !== undefined),
    wrap<T>(
      operation: InstrumentedOperation,
      run: (details: (details: OperationDetails) => void) => Promise<T>,
    ): Promise<T> {
      const activeTracer = tracing ? currentTracer() : undefined;
      const activeInstruments = metering ? currentInstruments() : undefined;
      if (activeTracer === undefined && activeInstruments === undefined) {
        return run(ignoreDetails);
      }
      return traced(operation, run, activeTracer, activeInstruments);
    },
  };
}

const ignoreDetails = (_details: OperationDetails): void => {};

function spanName(operation: InstrumentedOperation): string {
  return operation.kind === "store"
    ? `${TelemetryNames.STORE_SPAN_PREFIX}${operation.operation}`
    : operation.kind === "load"
      ? TelemetryNames.LOAD_SPAN
      : TelemetryNames.COMMIT_SPAN;
}

async function traced<T>(
  operation: InstrumentedOperation,
  run: (details: (details: OperationDetails) => void) => Promise<T>,
  tracer: Tracer | undefined,
  instruments: Instruments | undefined,
): Promise<T> {
  let span: Span | undefined;
  if (tracer !== undefined) {
    const started = tracer.startSpan(spanName(operation), {
      kind: SpanKind.INTERNAL,
      attributes: {
        [TelemetryNames.STORE]: operation.store,
        [TelemetryNames.SESSION_NAME]: operation.sessionName,
        [TelemetryNames.OPERATION]: operation.operation,
      },
    });
    // A sampled-out span costs no context switch; its children follow the caller's context.
    if (started.isRecording()) span = started;
  }
  const startedAt = instruments !== undefined && operation.kind === "store" ? performance.now() : 0;
  let reported: OperationDetails | undefined;
  const report = (details: OperationDetails): void => {
    reported = details;
  };
  try {
    const result =
      span === undefined
        ? await run(report)
        : await context.with(trace.setSpan(context.active(), span), run, undefined, report);
    if (span !== undefined) finishSpan(span, operation, reported, undefined);
    if (instruments !== undefined) record(instruments, operation, reported, undefined, startedAt);
    return result;
  } catch (error) {
    const type = errorType(error);
    if (span !== undefined) finishSpan(span, operation, reported, type);
    if (instruments !== undefined) record(instruments, operation, reported, type, startedAt);
    throw error;
  }
}

function finishSpan(
  span: Span,
  operation: InstrumentedOperation,
  details: OperationDetails | undefined,
  failure: string | undefined,
): void {
  if (operation.kind !== "store") {
    const outcome = failure === undefined ? details?.outcome : "error";
    if (outcome !== undefined) span.setAttribute(TelemetryNames.OUTCOME, outcome);
    if (operation.kind === "commit" && details?.retries !== undefined) {
      span.setAttribute(TelemetryNames.CONFLICT_RETRIES_ATTRIBUTE, details.retries);
    }
  } else {
    span.setAttribute(TelemetryNames.OUTCOME, failure === undefined ? "ok" : "error");
  }
  if (failure !== undefined) {
    // Only the stable code: an error message or cause may name a host.
    span.setAttribute(TelemetryNames.ERROR_TYPE, failure);
    span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
  }
  span.end();
}

function record(
  instruments: Instruments,
  operation: InstrumentedOperation,
  details: OperationDetails | undefined,
  failure: string | undefined,
  startedAt: number,
): void {
  const base: Attributes = {
    [TelemetryNames.STORE]: operation.store,
    [TelemetryNames.SESSION_NAME]: operation.sessionName,
  };
  if (operation.kind === "store") {
    instruments.storeDuration.record(performance.now() - startedAt, {
      ...base,
      [TelemetryNames.OPERATION]: operation.operation,
      [TelemetryNames.OUTCOME]: failure === undefined ? "ok" : "error",
      ...(failure === undefined ? {} : { [TelemetryNames.ERROR_TYPE]: failure }),
    });
    return;
  }
  const outcome = failure === undefined ? (details?.outcome ?? "unknown") : "error";
  const attributes: Attributes = {
    ...base,
    [TelemetryNames.OUTCOME]: outcome,
    ...(failure === undefined ? {} : { [TelemetryNames.ERROR_TYPE]: failure }),
  };
  if (operation.kind === "load") {
    instruments.loads.add(1, attributes);
    return;
  }
  instruments.commits.add(1, attributes);
  const retries = details?.retries ?? 0;
  if (retries > 0) instruments.conflictRetries.add(retries, base);
  if (failure === "CONFLICT") {
    instruments.conflicts.add(1, { ...base, [TelemetryNames.RESOLUTION]: "rejected" });
  } else if (retries > 0 && failure === undefined) {
    instruments.conflicts.add(1, { ...base, [TelemetryNames.RESOLUTION]: "merged" });
  }
}
