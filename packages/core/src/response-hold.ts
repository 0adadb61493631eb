import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { appendSetCookie, applyHeaders, type HeaderTarget } from "./adapter-headers.js";
import { bareError, errorStatus } from "./http-errors.js";
import type { ResponseHeader } from "./types.js";

/** A Node response as a {@link HeaderTarget}. */
function nodeHeaders(res: ServerResponse): HeaderTarget {
  return {
    get: (name) => res.getHeader(name),
    set: (name, value) => res.setHeader(name, value),
    append: (name, value) => res.setHeader(name, appendSetCookie(res.getHeader(name), value)),
  };
}

/**
 * The same as `applyHeaders` of `@sessionkit/core/adapter`, for a Node
 * `ServerResponse` whose headers are not sent yet: `Set-Cookie` appended
 * (other cookies stay), `Vary` merged, every other header replaced.
 *
 * @example
 * ```ts
 * applyNodeHeaders(res, (await session.commit()).headers);
 * res.end("saved");
 * ```
 */
export function applyNodeHeaders(res: ServerResponse, headers: readonly ResponseHeader[]): void {
  // Most commits answer no header at all (an unchanged session, no cookie due).
  if (headers.length > 0) applyHeaders(nodeHeaders(res), headers);
}

/**
 * Replaces whatever the response holds by the bare error response for
 * `error` (status text, `text/plain`, `Cache-Control: no-store`, no other
 * header); a response already on the wire is cut off instead.
 */
export function sendBareError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const { status, headers, body } = bareError(errorStatus(error).status);
  res.writeHead(status, headers);
  res.end(body);
}

/** Handle returned by {@link holdResponseUntil}. */
export interface ResponseHold {
  /** Give up the hold without running `beforeSend` (e.g. the handler threw). Returns whether nothing was sent yet. */
  cancel(): boolean;
}

/**
 * Holds a Node response until `beforeSend` has finished: the first
 * `writeHead`, `write`, `flushHeaders` or `end` runs `beforeSend`, queues the
 * call, then applies the headers it returns and replays the calls in order.
 * If `beforeSend` fails before anything was sent, the queued response is
 * discarded and a bare 503/500/409 goes out instead: never a half-sent
 * response. A held `writeHead(status)` sets `res.statusCode` at once, so
 * `beforeSend` sees the status the response will have. Used by
 * `createNodeHandler` and the Express adapter.
 *
 * @param onError - Called once with `beforeSend`'s error, after the bare
 *   response went out. Defaults to doing nothing: report inside `beforeSend`
 *   when each session's failure needs its own report.
 *
 * @example
 * ```ts
 * const session = await sessions.load(req);
 * holdResponseUntil(res, async () => (await session.commit()).headers, console.error);
 * ```
 */
export function holdResponseUntil(
  res: ServerResponse,
  beforeSend: () => Promise<readonly ResponseHeader[]>,
  onError: (error: unknown) => void = () => {},
): ResponseHold {
  // What the response answered to before the hold: its prototype's methods,
  // or a wrapper installed earlier as its own property.
  const writeHead = res.writeHead;
  const write = res.write;
  const end = res.end;
  const flushHeaders = res.flushHeaders;
  let queue: Array<() => void> | undefined;
  let state: "holding" | "running" | "released" = "holding";

  // Letting go patches nothing back: the held functions forward directly once
  // released, so a wrapper installed after the hold (compression, say) keeps
  // working. Assigning the originals back cost more than it saved: a response
  // whose prototype was replaced (Express's) rebuilds its hidden class for
  // each changed method (about 2.4 µs per response, profiled under load), and
  // deleting them would turn it into a slow dictionary-mode object.
  const release = (): void => {
    state = "released";
  };
  const replay = (): void => {
    const calls = queue;
    queue = undefined;
    if (calls !== undefined) for (const call of calls) call();
  };
  const start = (): void => {
    if (state !== "holding") return;
    state = "running";
    beforeSend().then(
      (headers) => {
        if (state !== "running") return;
        release();
        if (!res.headersSent) applyNodeHeaders(res, headers);
        replay();
      },
      (error: unknown) => {
        if (state !== "running") return;
        release();
        queue = undefined;
        sendBareError(res, error);
        onError(error);
      },
    );
  };
  /** Queues a call while held (and starts `beforeSend`); runs it at once when released. */
  const hold = (call: () => void): void => {
    if (state === "released") {
      call();
      return;
    }
    if (queue === undefined) queue = [call];
    else queue.push(call);
    start();
  };

  function heldWriteHead(this: unknown, ...args: unknown[]): ServerResponse {
    // The status is visible at once, so `beforeSend` sees what the response will be.
    if (state !== "released" && typeof args[0] === "number") res.statusCode = args[0];
    hold(() => {
      // writeHead(status, [message], headers) would replace our Set-Cookie:
      // apply its headers through setHeader/appendHeader instead.
      const last = args[args.length - 1];
      if (last !== null && typeof last === "object" && !Array.isArray(last)) {
        for (const [name, value] of Object.entries(last as OutgoingHttpHeaders)) {
          if (value === undefined) continue;
          if (name.toLowerCase() === "set-cookie") {
            res.appendHeader(name, value as string | string[]);
          } else res.setHeader(name, value);
        }
        args = args.slice(0, -1);
      }
      (writeHead as (...a: unknown[]) => void).apply(res, args);
    });
    return res;
  }
  function heldWrite(this: unknown, ...args: unknown[]): boolean {
    if (state === "released") return (write as (...a: unknown[]) => boolean).apply(res, args);
    hold(() => (write as (...a: unknown[]) => void).apply(res, args));
    return true;
  }
  function heldEnd(this: unknown, ...args: unknown[]): ServerResponse {
    if (state === "released") return (end as (...a: unknown[]) => ServerResponse).apply(res, args);
    hold(() => (end as (...a: unknown[]) => void).apply(res, args));
    return res;
  }
  function heldFlushHeaders(this: unknown): void {
    hold(() => flushHeaders.apply(res));
  }
  res.writeHead = heldWriteHead as ServerResponse["writeHead"];
  res.write = heldWrite as ServerResponse["write"];
  res.end = heldEnd as ServerResponse["end"];
  res.flushHeaders = heldFlushHeaders;

  return {
    cancel() {
      const untouched = state === "holding";
      if (state !== "released") release();
      queue = undefined;
      return untouched && !res.headersSent;
    },
  };
}
