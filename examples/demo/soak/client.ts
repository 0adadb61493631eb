// A cookie-keeping HTTP client for one session of one soak client, over fetch
// (undici's default agent, keep-alive), timing every request.
import type { Outcome, RequestKind, RequestRecord } from "./protocol.js";

export interface Answer {
  readonly record: RequestRecord;
  readonly location: string | null;
  readonly body: string;
  /** A description of an unexpected answer, for the report. */
  readonly problem?: string;
}

/** What the core writes for a failed store call: no details, no stack (A39). */
const UNAVAILABLE_BODY = "Service Unavailable";

export class SessionClient {
  readonly #cookies = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    readonly timeoutMs: number,
    readonly userAgent: string,
  ) {}

  /** The `Cookie` header of this session, to read it again later. */
  get cookieHeader(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  /** Uses a saved `Cookie` header. */
  static resume(baseUrl: string, timeoutMs: number, cookieHeader: string): SessionClient {
    const client = new SessionClient(baseUrl, timeoutMs, "soak-verifier");
    for (const pair of cookieHeader.split("; ")) {
      const eq = pair.indexOf("=");
      if (eq > 0) client.#cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return client;
  }

  /**
   * Sends a request; `expect` is the success answer of the route (status and,
   * for a redirect, the location).
   */
  async request(
    kind: RequestKind,
    method: "GET" | "POST",
    path: string,
    expect: { status: number; location?: string },
    form?: Record<string, string>,
  ): Promise<Answer> {
    const headers: Record<string, string> = { "User-Agent": this.userAgent };
    if (this.#cookies.size > 0) headers.Cookie = this.cookieHeader;
    let body: string | undefined;
    if (form !== undefined) {
      body = new URLSearchParams(form).toString();
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    }
    const startedAt = Date.now();
    const started = performance.now();
    let status = 0;
    let location: string | null = null;
    let text = "";
    let problem: string | undefined;
    try {
      const response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(body === undefined ? {} : { body }),
      });
      status = response.status;
      location = response.headers.get("location");
      for (const line of response.headers.getSetCookie()) this.#keepCookie(line);
      text = await response.text();
    } catch (error) {
      problem = `${kind}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    }
    const latencyMs = performance.now() - started;
    let outcome: Outcome;
    if (problem !== undefined) {
      outcome = "unexpected";
    } else if (
      status === expect.status &&
      (expect.location === undefined || location === expect.location)
    ) {
      outcome = "ok";
    } else if (status === 503 && text === UNAVAILABLE_BODY) {
      outcome = "503";
    } else {
      outcome = "unexpected";
      problem = `${kind}: ${status} ${location ?? ""} ${JSON.stringify(text.slice(0, 200))}`;
    }
    const record: RequestRecord = {
      kind,
      startedAt,
      endedAt: Date.now(),
      latencyMs,
      status,
      outcome,
    };
    return { record, location, body: text, ...(problem === undefined ? {} : { problem }) };
  }

  #keepCookie(line: string): void {
    const [pair = "", ...attributes] = line.split(";");
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
    if (expired || value === "") this.#cookies.delete(name);
    else this.#cookies.set(name, value);
  }
}

/** The CSRF token of a page's forms, or `undefined`. */
export function csrfTokenIn(html: string): string | undefined {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
}

/** The item names of the cart on the shop page. */
export function cartItemsIn(html: string): string[] {
  return [...html.matchAll(/<td class="item">([^<]*)<\/td>/g)].map((match) => match[1] as string);
}
