// The load generator, run in a worker thread so that its heap and event loop
// are not the app's: N clients sign in and add distinct items to their carts
// until the run ends, then every session is read back once.
import { parentPort, workerData } from "node:worker_threads";
import { type Answer, cartItemsIn, csrfTokenIn, SessionClient } from "./client.js";
import type {
  DriverMessage,
  LoadConfig,
  LoadResult,
  LostWrite,
  RequestRecord,
  WorkerMessage,
} from "./protocol.js";

const ACCOUNTS = [
  { username: "alice", password: "wonderland" },
  { username: "bob", password: "builder" },
] as const;
/** Sessions read back at once in the verification phase. */
const VERIFY_CONCURRENCY = 10;
const MAX_PROBLEMS = 20;
/** Client starts are spread over this long, in ms. */
const STAGGER_MS = 500;

/** One session of one client and the cart writes it made. */
interface TrackedSession {
  readonly client: number;
  readonly index: number;
  cookie: string;
  /** Items whose add was answered with the app's 303. */
  readonly acknowledged: string[];
  /** Items whose add failed (503 or otherwise). */
  readonly failed: string[];
}

const config = workerData as LoadConfig;
const port = parentPort;
if (port === null) throw new Error("soak/load.ts runs as a worker thread");

const records: RequestRecord[] = [];
const unexpected: string[] = [];
const workerErrors: string[] = [];
let recording = false;

process.on("unhandledRejection", (reason) =>
  workerErrors.push(`unhandledRejection: ${describe(reason)}`),
);
process.on("uncaughtException", (error) =>
  workerErrors.push(`uncaughtException: ${describe(error)}`),
);

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function note(answer: Answer): Answer {
  if (!recording) return answer;
  records.push(answer.record);
  if (answer.problem !== undefined && unexpected.length < MAX_PROBLEMS) {
    unexpected.push(answer.problem);
  }
  return answer;
}

function problem(text: string): void {
  if (recording && unexpected.length < MAX_PROBLEMS) unexpected.push(text);
}

/** Signs in with a fresh cookie jar; retries until it works or the run ends. */
async function signIn(
  clientIndex: number,
  endAt: number,
): Promise<{ client: SessionClient; token: string } | undefined> {
  const account = ACCOUNTS[clientIndex % ACCOUNTS.length] as (typeof ACCOUNTS)[number];
  while (Date.now() < endAt) {
    const client = new SessionClient(
      config.baseUrl,
      config.requestTimeoutMs,
      `soak-client-${clientIndex}`,
    );
    const page = note(await client.request("login-page", "GET", "/login", { status: 200 }));
    const loginToken = page.record.outcome === "ok" ? csrfTokenIn(page.body) : undefined;
    if (page.record.outcome === "ok" && loginToken === undefined)
      problem("login page without a CSRF token");
    if (loginToken !== undefined) {
      const login = note(
        await client.request(
          "login",
          "POST",
          "/login",
          { status: 303, location: "/" },
          { ...account, _csrf: loginToken },
        ),
      );
      if (login.record.outcome === "ok") {
        const home = note(await client.request("home", "GET", "/", { status: 200 }));
        if (home.record.outcome === "ok") {
          const token = csrfTokenIn(home.body);
          if (token !== undefined && home.body.includes("Signed in as")) return { client, token };
          problem("home page after sign-in not signed in or without a CSRF token");
        }
      }
    }
    await sleep(50);
  }
  return undefined;
}

/** One client: sessions of `itemsPerSession` cart adds each, until `endAt`. */
async function runClient(
  clientIndex: number,
  endAt: number,
  tracked: TrackedSession[],
): Promise<void> {
  // Clients arrive over half a second rather than all in one instant.
  await sleep((clientIndex * STAGGER_MS) / config.clients);
  for (let sessionIndex = 0; Date.now() < endAt; sessionIndex++) {
    const signedIn = await signIn(clientIndex, endAt);
    if (signedIn === undefined) return;
    const session: TrackedSession = {
      client: clientIndex,
      index: sessionIndex,
      cookie: "",
      acknowledged: [],
      failed: [],
    };
    // At most itemsPerSession attempts (not acknowledgements): a failed add may
    // still have been written, and the cart must never reach the demo's cap.
    for (let i = 0; i < config.itemsPerSession && Date.now() < endAt; i++) {
      const item = `c${clientIndex}-s${sessionIndex}-i${i}`;
      const answer = note(
        await signedIn.client.request(
          "add",
          "POST",
          "/cart/add",
          { status: 303, location: "/" },
          { custom: item, _csrf: signedIn.token },
        ),
      );
      if (answer.record.outcome === "ok") {
        session.acknowledged.push(item);
      } else {
        session.failed.push(item);
        await sleep(20);
      }
    }
    session.cookie = signedIn.client.cookieHeader;
    if (recording && session.acknowledged.length + session.failed.length > 0) tracked.push(session);
  }
}

async function runClients(endAt: number, tracked: TrackedSession[]): Promise<void> {
  await Promise.all(
    Array.from({ length: config.clients }, (_, index) => runClient(index, endAt, tracked)),
  );
}

/** Reads every session once and compares its cart with what was acknowledged. */
async function verify(tracked: readonly TrackedSession[]): Promise<{
  lost: LostWrite[];
  failedButApplied: number;
  verifyFailures: string[];
}> {
  const lost: LostWrite[] = [];
  const verifyFailures: string[] = [];
  let failedButApplied = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < tracked.length; i = next++) {
      const session = tracked[i] as TrackedSession;
      const client = SessionClient.resume(config.baseUrl, config.requestTimeoutMs, session.cookie);
      const answer = note(await client.request("verify", "GET", "/", { status: 200 }));
      const where = `client ${session.client} session ${session.index}`;
      if (answer.record.outcome !== "ok") {
        verifyFailures.push(`${where}: ${answer.record.status}`);
        continue;
      }
      if (!answer.body.includes("Signed in as")) {
        verifyFailures.push(`${where}: no longer signed in`);
        for (const item of session.acknowledged) {
          lost.push({ client: session.client, session: session.index, item });
        }
        continue;
      }
      const items = cartItemsIn(answer.body);
      const inCart = new Set(items);
      if (inCart.size !== items.length)
        verifyFailures.push(`${where}: an item is in the cart twice`);
      const attempted = new Set([...session.acknowledged, ...session.failed]);
      for (const item of items) {
        if (!attempted.has(item)) verifyFailures.push(`${where}: unknown item ${item} in the cart`);
      }
      for (const item of session.acknowledged) {
        if (!inCart.has(item)) lost.push({ client: session.client, session: session.index, item });
      }
      for (const item of session.failed) if (inCart.has(item)) failedButApplied++;
    }
  };
  await Promise.all(Array.from({ length: VERIFY_CONCURRENCY }, worker));
  return { lost, failedButApplied, verifyFailures };
}

async function main(): Promise<void> {
  // Warm-up: every client, nothing recorded.
  await runClients(Date.now() + config.warmupMs, []);
  const go = new Promise<DriverMessage>((resolve) => port?.once("message", resolve));
  port?.postMessage({ type: "warm" } satisfies WorkerMessage);
  const { startAt } = await go;

  recording = true;
  const tracked: TrackedSession[] = [];
  await runClients(startAt + config.durationMs, tracked);
  const { lost, failedButApplied, verifyFailures } = await verify(tracked);

  const result: LoadResult = {
    records,
    unexpected,
    acknowledged: tracked.reduce((sum, session) => sum + session.acknowledged.length, 0),
    failedButApplied,
    lost,
    sessionsVerified: tracked.length,
    verifyFailures: verifyFailures.slice(0, MAX_PROBLEMS),
    workerErrors,
  };
  port?.postMessage({ type: "result", result } satisfies WorkerMessage);
}

void main().catch((error: unknown) => {
  port?.postMessage({ type: "failed", error: describe(error) } satisfies WorkerMessage);
});
