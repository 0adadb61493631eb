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
  applyHeaders(nodeHeaders(res), headers);
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
 * response. Used by `createNodeHandler` and the Express adapter.
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
  const original = {
    writeHead: res.writeHead,
    write: res.write,
    end: res.end,
    flushHeaders: res.flushHeaders,
  };
  const queue: Array<() => void> = [];
  let state: "holding" | "running" | "released" = "holding";

  // The held replacements, so restore() only undoes its own patch: a wrapper
  // installed after the hold (compression, say) stays in place and keeps
  // calling through the held function, which then forwards directly.
  const held: Partial<Record<keyof typeof original, unknown>> = {};
  const names = ["writeHead", "write", "end", "flushHeaders"] as const;
  // Methods the response had as its own before the hold (a wrapper installed
  // earlier) are put back; the others are deleted, which restores the
  // prototype's method and the object shape every other response has.
  const ownBefore = new Set(names.filter((name) => Object.hasOwn(res, name)));
  const restore = (): void => {
    for (const name of names) {
      if (res[name] !== held[name]) continue;
      if (ownBefore.has(name)) (res as unknown as Record<string, unknown>)[name] = original[name];
      else delete (res as unknown as Record<string, unknown>)[name];
    }
    state = "released";
  };
  const start = (): void => {
    if (state !== "holding") return;
    state = "running";
    beforeSend().then(
      (headers) => {
        if (state !== "running") return;
        restore();
        if (!res.headersSent) applyNodeHeaders(res, headers);
        for (const call of queue.splice(0)) call();
      },
      (error: unknown) => {
        if (state !== "running") return;
        restore();
        queue.length = 0;
        sendBareError(res, error);
        onError(error);
      },
    );
  };
  const hold = <A extends unknown[]>(replay: (...args: A) => void) =>
    function heldCall(this: unknown, ...args: A): ServerResponse {
      if (state === "released") {
        replay(...args);
        return res;
      }
      queue.push(() => replay(...args));
      start();
      return res;
    };

  res.writeHead = hold((...args: unknown[]) => {
    // writeHead(status, [message], headers) would replace our Set-Cookie:
    // apply its headers through setHeader/appendHeader instead.
    const last = args[args.length - 1];
    if (last !== null && typeof last === "object" && !Array.isArray(last)) {
      for (const [name, value] of Object.entries(last as OutgoingHttpHeaders)) {
        if (value === undefined) continue;
        if (name.toLowerCase() === "set-cookie") res.appendHeader(name, value as string | string[]);
        else res.setHeader(name, value);
      }
      args = args.slice(0, -1);
    }
    (original.writeHead as (...a: unknown[]) => void).apply(res, args);
  }) as ServerResponse["writeHead"];
  const heldWrite = hold((...a: unknown[]) =>
    (original.write as (...x: unknown[]) => void).apply(res, a),
  );
  res.write = ((...args: unknown[]) => {
    if (state === "released")
      return (original.write as (...x: unknown[]) => boolean).apply(res, args);
    heldWrite(...args);
    return true;
  }) as ServerResponse["write"];
  res.end = hold((...args: unknown[]) =>
    (original.end as (...a: unknown[]) => void).apply(res, args),
  ) as ServerResponse["end"];
  res.flushHeaders = hold(() => original.flushHeaders.apply(res)) as ServerResponse["flushHeaders"];
  held.writeHead = res.writeHead;
  held.write = res.write;
  held.end = res.end;
  held.flushHeaders = res.flushHeaders;

  return {
    cancel() {
      const untouched = state === "holding";
      if (state !== "released") restore();
      queue.length = 0;
      return untouched && !res.headersSent;
    },
  };
}
