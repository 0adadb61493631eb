import { type OutgoingHttpHeaders, ServerResponse } from "node:http";
import {
  appendSetCookie,
  applyHeaders,
  type HeaderTarget,
  type HeaderValue,
} from "./adapter-headers.js";
import { reportLast } from "./adapter-kit.js";
import { bareError, errorStatus } from "./http-errors.js";
import { slotUnder } from "./object-slot.js";
import { isThenable } from "./thenable.js";
import type { ResponseHeader } from "./types.js";

/**
 * A Node response as a {@link HeaderTarget}: one small object per response
 * whose methods are shared, where an object of three closures allocated
 * about ten times the bytes.
 */
class NodeHeaders implements HeaderTarget {
  readonly #res: ServerResponse;
  constructor(res: ServerResponse) {
    this.#res = res;
  }
  get(name: string): HeaderValue {
    return this.#res.getHeader(name);
  }
  set(name: string, value: string): void {
    this.#res.setHeader(name, value);
  }
  append(name: string, value: string): void {
    this.#res.setHeader(name, appendSetCookie(this.#res.getHeader(name), value));
  }
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
  // A commit answers at least `Vary: Cookie`; an adapter that commits nothing
  // (Express, for a failed request) answers no header at all.
  if (headers.length > 0) applyHeaders(new NodeHeaders(res), headers);
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

/**
 * What a hold runs before the response's first byte: the headers to add, or a
 * promise of them. Headers answered at once (no promise) let the response go
 * out within the call that started it.
 */
export type BeforeSend = () => readonly ResponseHeader[] | Promise<readonly ResponseHeader[]>;

/** Handle returned by {@link holdResponseUntil}. */
export interface ResponseHold {
  /** Give up the hold without running `beforeSend` (e.g. the handler threw). Returns whether nothing was sent yet. */
  cancel(): boolean;
}

/** The response methods a hold intercepts. */
type HeldMethods = Pick<ServerResponse, "writeHead" | "write" | "end" | "flushHeaders">;
const HELD_METHODS = ["writeHead", "write", "end", "flushHeaders"] as const;

/** One response's hold: its four held methods, and whether it let go. */
interface Hold extends ResponseHold, HeldMethods {
  readonly res: ServerResponse;
  released(): boolean;
}

/**
 * Creates the hold of `res`: held methods that queue each call (and start
 * `beforeSend`) until it finished, then replay them through `forward`, what
 * the response answered to before the hold. Closures over one hold's state,
 * though a class allocates about 0.9 KB less per response: with a class
 * (tried twice, the second time with no array or object literal per
 * response), V8 turned allocation sites of the request's objects to
 * old-generation allocation, each scavenge then promoted whole requests, and
 * a node:http request cost 3–4 µs more (BENCHMARKS.md finding 54).
 */
function createHold(
  res: ServerResponse,
  forward: HeldMethods,
  beforeSend: BeforeSend,
  onError: (error: unknown) => void,
): Hold {
  const { writeHead, write, end, flushHeaders } = forward;
  let queue: Array<() => void> | undefined;
  let state: "holding" | "running" | "released" = "holding";

  // Letting go patches nothing back: the held functions forward directly once
  // released, so a wrapper installed after the hold (compression, say) keeps
  // working. Assigning the originals back cost more than it saved: a response
  // whose prototype was replaced (Express's) rebuilds its hidden class for
  // each changed method, and deleting them would turn it into a slow
  // dictionary-mode object.
  const release = (): void => {
    state = "released";
  };
  const replay = (): void => {
    const calls = queue;
    queue = undefined;
    if (calls !== undefined) for (const call of calls) call();
  };
  const proceed = (headers: readonly ResponseHeader[]): void => {
    if (state !== "running") return;
    release();
    if (!res.headersSent) applyNodeHeaders(res, headers);
    replay();
  };
  const start = (): void => {
    if (state !== "holding") return;
    state = "running";
    let answer: readonly ResponseHeader[] | Promise<readonly ResponseHeader[]>;
    try {
      answer = beforeSend();
    } catch (error) {
      answer = Promise.reject(error);
    }
    // Headers known at once (a commit with nothing to write): the response
    // goes out in this call, with no promise.
    if (!isThenable(answer)) {
      proceed(answer);
      return;
    }
    answer.then(proceed, (error: unknown) => {
      if (state !== "running") return;
      release();
      queue = undefined;
      sendBareError(res, error);
      reportLast(onError, error);
    });
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

  return {
    res,
    writeHead: heldWriteHead as ServerResponse["writeHead"],
    write: heldWrite as ServerResponse["write"],
    end: heldEnd as ServerResponse["end"],
    flushHeaders: heldFlushHeaders,
    released: () => state === "released",
    cancel() {
      const untouched = state === "holding";
      if (state !== "released") release();
      queue = undefined;
      return untouched && !res.headersSent;
    },
  };
}

/**
 * The hold of each response held through the prototype, kept on its request
 * (`res.req`), whose one slot property the session is already kept in: the
 * response itself gets no property. Under a registered symbol, shared with
 * every other copy of this module in the process (two installed versions, a
 * test runner's per-file module instances): the interceptors installed by the
 * first copy find the holds of all of them, so the prototype is patched once.
 * Its version names the protocol between them (a {@link Hold}'s `res`,
 * `released()` and four methods): a change to it needs a new version.
 */
const HOLD_PROTOCOL = Symbol.for("sessionkit.responseHold.v1");
const heldThroughPrototype = slotUnder<Hold>(HOLD_PROTOCOL);

/** The four interceptors on `ServerResponse.prototype` and the methods they replaced. */
interface Interception {
  readonly interceptors: HeldMethods;
  readonly originals: HeldMethods;
}

/** This copy's view of the interception, once installed (by it or by another copy). */
let prototypeHold: Interception | undefined;

/**
 * Installs, once per process, interceptors of the four methods on
 * `ServerResponse.prototype`. Each looks up its response's hold (on
 * `res.req`) and forwards to the method it replaced when there is none or it
 * was released: responses without a hold behave exactly as before, at the
 * cost of one property lookup per call.
 */
function installPrototypeInterceptors(): Interception {
  if (prototypeHold !== undefined) return prototypeHold;
  const proto = ServerResponse.prototype as unknown as Record<PropertyKey, unknown>;
  // Installed by another copy of this module: its interceptors find our holds too.
  const installed = proto[HOLD_PROTOCOL] as Interception | undefined;
  if (installed !== undefined) {
    prototypeHold = installed;
    return installed;
  }
  const interceptors: Record<string, unknown> = {};
  const originals: Record<string, unknown> = {};
  for (const name of HELD_METHODS) {
    const original = proto[name] as (...args: unknown[]) => unknown;
    const intercept = function (this: ServerResponse, ...args: unknown[]): unknown {
      const req: unknown = this.req;
      const hold =
        typeof req === "object" && req !== null ? heldThroughPrototype.get(req) : undefined;
      if (hold === undefined || hold.res !== this || hold.released()) {
        return original.apply(this, args);
      }
      return (hold[name] as (...a: unknown[]) => unknown)(...args);
    };
    Object.defineProperty(intercept, "name", { value: name });
    originals[name] = original;
    interceptors[name] = intercept;
    // As enumerable as the method it shadows (Node assigns its methods).
    Object.defineProperty(proto, name, {
      value: intercept,
      writable: true,
      configurable: true,
      enumerable: inheritedDescriptor(proto, name)?.enumerable ?? false,
    });
  }
  prototypeHold = {
    interceptors: interceptors as unknown as HeldMethods,
    originals: originals as unknown as HeldMethods,
  };
  Object.defineProperty(proto, HOLD_PROTOCOL, { value: prototypeHold });
  return prototypeHold;
}

/** The descriptor of `name` on `object` or the first prototype that has it. */
function inheritedDescriptor(object: object | null, name: string): PropertyDescriptor | undefined {
  for (let at = object; at !== null; at = Object.getPrototypeOf(at)) {
    const descriptor = Object.getOwnPropertyDescriptor(at, name);
    if (descriptor !== undefined) return descriptor;
  }
  return undefined;
}

/**
 * The interception `res` can be held through, or `undefined` when it is held
 * through its own methods: its prototype was replaced (Express does it to
 * every response, and every property added to such an object afterwards costs
 * V8 a new hidden class: four own methods slowed a whole Express request by
 * about 19 µs on Node 20), it reaches the four methods through the
 * interceptors (no wrapper of its own installed before the hold), and its
 * request holds no hold yet.
 */
function prototypeInterception(res: ServerResponse): Interception | undefined {
  // No `instanceof`: the four identities below hold only for a response that
  // reaches `ServerResponse.prototype`'s methods.
  if (Object.getPrototypeOf(res) === ServerResponse.prototype) return undefined;
  const req: unknown = res.req;
  if (typeof req !== "object" || req === null || heldThroughPrototype.get(req) !== undefined) {
    return undefined;
  }
  const interception = installPrototypeInterceptors();
  const { interceptors } = interception;
  return res.writeHead === interceptors.writeHead &&
    res.write === interceptors.write &&
    res.end === interceptors.end &&
    res.flushHeaders === interceptors.flushHeaders
    ? interception
    : undefined;
}

/**
 * Holds a Node response until `beforeSend` has finished: the first
 * `writeHead`, `write`, `flushHeaders` or `end` runs `beforeSend`, queues the
 * call, then applies the headers it returns and replays the calls in order.
 * Headers `beforeSend` returns as they are (not as a promise) are applied and
 * the call goes through at once, within it (`commitForResponse` of
 * `@sessionkit/core/adapter` answers so for a session with nothing to write).
 * If `beforeSend` fails (rejects or throws) before anything was sent, the
 * queued response is discarded and a bare 503/500/409 goes out instead: never
 * a half-sent response. A held `writeHead(status)` sets `res.statusCode` at once, so
 * `beforeSend` sees the status the response will have. Used by
 * `createNodeHandler` and the Express adapter.
 *
 * A plain `ServerResponse` is held through four methods set on the response
 * itself. A response whose prototype was replaced (Express's) is held through
 * `ServerResponse.prototype` instead, whose four methods are replaced once per
 * process, the first time such a response is held, by interceptors that
 * forward to the originals for every response without a hold: adding
 * properties to such a response costs V8 far more than the lookup. It falls
 * back to the response's own methods when the response has wrappers of its
 * own on any of the four (installed before the hold) or is held twice.
 *
 * @param onError - Called once with `beforeSend`'s error, after the bare
 *   response went out. Defaults to doing nothing: report inside `beforeSend`
 *   when each session's failure needs its own report. If it throws, what it
 *   threw is logged with `console.error`, never left an unhandled rejection.
 *
 * @example
 * ```ts
 * const session = await sessions.load(req);
 * holdResponseUntil(res, () => commitForResponse(session), console.error);
 * ```
 */
export function holdResponseUntil(
  res: ServerResponse,
  beforeSend: BeforeSend,
  onError: (error: unknown) => void = () => {},
): ResponseHold {
  const interception = prototypeInterception(res);
  if (interception !== undefined) {
    // Released, it forwards to the methods the interceptors replaced.
    const hold = createHold(res, interception.originals, beforeSend, onError);
    heldThroughPrototype.set(res.req as object, hold);
    return hold;
  }
  // What the response answered to before the hold: its prototype's methods,
  // or a wrapper installed earlier as its own property.
  const hold = createHold(res, res, beforeSend, onError);
  res.writeHead = hold.writeHead;
  res.write = hold.write;
  res.end = hold.end;
  res.flushHeaders = hold.flushHeaders;
  return hold;
}
