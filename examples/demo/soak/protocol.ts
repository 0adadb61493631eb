// Messages between the soak driver (main thread, runs the app) and the load worker.

export interface LoadConfig {
  /** The app, `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  readonly clients: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly itemsPerSession: number;
  /** A request still unanswered after this is aborted and counted as a hang, in ms. */
  readonly requestTimeoutMs: number;
}

/** What a request was for. */
export type RequestKind = "login-page" | "login" | "home" | "add" | "verify";

/** How a request ended. */
export type Outcome =
  /** The app's success answer for that route. */
  | "ok"
  /** A bare 503 "Service Unavailable" (a store failure, expected during the fault). */
  | "503"
  /** Anything else: 500, another status, a body with details, a network error, a timeout. */
  | "unexpected";

/** One request: epoch ms start and end (comparable across threads), latency, outcome. */
export interface RequestRecord {
  readonly kind: RequestKind;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly latencyMs: number;
  readonly status: number;
  readonly outcome: Outcome;
}

/** A cart write that was acknowledged but is missing from its session afterwards. */
export interface LostWrite {
  readonly client: number;
  readonly session: number;
  readonly item: string;
}

export interface LoadResult {
  readonly records: RequestRecord[];
  /** Up to 20 descriptions of unexpected answers (status and the start of the body). */
  readonly unexpected: string[];
  readonly acknowledged: number;
  /** Cart adds answered 503 whose item is nonetheless in the cart (written, answer lost). */
  readonly failedButApplied: number;
  readonly lost: LostWrite[];
  readonly sessionsVerified: number;
  /** Sessions whose final read was not a signed-in 200 page. */
  readonly verifyFailures: string[];
  /** Unhandled rejections or uncaught exceptions in the worker. */
  readonly workerErrors: string[];
}

export type WorkerMessage =
  | { type: "warm" }
  | { type: "result"; result: LoadResult }
  | { type: "failed"; error: string };
export type DriverMessage = { type: "go"; startAt: number };
