// The adapter kit (@sessionkit/core/adapter): what every framework adapter
// is built from, tested once here so the adapters' tests cover only hooks.
import { ErrorCode, isSessionError, SessionError } from "@sessionkit/core";
import {
  appendSetCookie,
  applyHeaders,
  assertManager,
  bareError,
  commitForResponse,
  errorResponse,
  errorStatus,
  failureReporter,
  mergeVary,
  objectSlot,
  RequestFailures,
  resolveAdapterOptions,
  SessionHttpError,
  slotState,
} from "@sessionkit/core/adapter";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { harness } from "./helpers.js";

const down = () => new SessionError(ErrorCode.STORE_UNAVAILABLE, "store down at 10.0.0.7 (test)");
const conflict = () => new SessionError(ErrorCode.CONFLICT, "lost a race (test)");

describe("bare errors (A39)", () => {
  it("bareError(status) is the status text, text/plain and no-store, nothing else", () => {
    expect(bareError(503)).toEqual({
      status: 503,
      headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
      body: "Service Unavailable",
    });
    expect(bareError(409).body).toBe("Conflict");
    expect(bareError(500).body).toBe("Internal Server Error");
  });

  it("errorStatus(error) maps SessionError codes and answers 500 for anything else", () => {
    expect(errorStatus(down())).toEqual({ status: 503, body: "Service Unavailable" });
    expect(errorStatus(conflict())).toEqual({ status: 409, body: "Conflict" });
    expect(errorStatus(new Error("boom at /srv/app.js"))).toEqual({
      status: 500,
      body: "Internal Server Error",
    });
    expect(errorStatus("not even an error")).toEqual({
      status: 500,
      body: "Internal Server Error",
    });
  });

  it("errorResponse(error) is a bare Fetch Response", async () => {
    const response = errorResponse(down());
    expect(response.status).toBe(503);
    expect(await response.text()).toBe("Service Unavailable");
    expect([...response.headers]).toEqual([
      ["cache-control", "no-store"],
      ["content-type", "text/plain; charset=utf-8"],
    ]);
  });
});

describe("SessionHttpError", () => {
  it("carries status, statusCode, expose: false, no-store and the original error as cause", () => {
    const cause = down();
    const error = new SessionHttpError(cause);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: "SessionHttpError",
      message: "Service Unavailable",
      status: 503,
      statusCode: 503,
      expose: false,
      headers: { "Cache-Control": "no-store" },
    });
    expect(error.cause).toBe(cause);
    expect(new SessionHttpError(conflict()).status).toBe(409);
    expect(new SessionHttpError(new TypeError("misconfigured")).status).toBe(500);
  });

  it("is not itself a SessionError, so nothing mistakes it for the store's failure", () => {
    expect(isSessionError(new SessionHttpError(down()))).toBe(false);
  });

  it("names its cause in the first line of its stack, for logs that print only stacks", () => {
    const { stack } = new SessionHttpError(down());
    expect(stack?.split("\n")[0]).toBe(
      "SessionHttpError: Service Unavailable (caused by SessionError [STORE_UNAVAILABLE]: store down at 10.0.0.7 (test))",
    );
    expect(stack?.split("\n")[1]).toMatch(/^\s+at /);
    expect(new SessionHttpError("a string").stack?.split("\n")[0]).toBe(
      "SessionHttpError: Internal Server Error (caused by a string)",
    );
  });
});

describe("header merging (A10, A37)", () => {
  it("mergeVary() adds Cookie once, keeps the app's values, and leaves * alone", () => {
    expect(mergeVary(undefined)).toBe("Cookie");
    expect(mergeVary(null)).toBe("Cookie");
    expect(mergeVary("  ")).toBe("Cookie");
    expect(mergeVary("Accept-Encoding")).toBe("Accept-Encoding, Cookie");
    expect(mergeVary(["Accept-Encoding", "Origin"])).toBe("Accept-Encoding, Origin, Cookie");
    expect(mergeVary("origin, COOKIE")).toBe("origin, COOKIE");
    expect(mergeVary("*")).toBe("*");
  });

  it("mergeVary() is idempotent and always names Cookie or *", () => {
    const token = fc.stringMatching(/^[A-Za-z-]{1,12}$/);
    fc.assert(
      fc.property(fc.array(token, { maxLength: 5 }), (names) => {
        const once = mergeVary(names.join(", "));
        expect(mergeVary(once)).toBe(once);
        const parts = once.split(",").map((part) => part.trim().toLowerCase());
        expect(parts.includes("cookie") || parts.includes("*")).toBe(true);
      }),
    );
  });

  it("appendSetCookie() keeps every cookie as its own line, never comma-joined", () => {
    expect(appendSetCookie(undefined, "a=1")).toEqual(["a=1"]);
    expect(appendSetCookie("a=1", "b=2")).toEqual(["a=1", "b=2"]);
    expect(appendSetCookie(["a=1", "b=2"], "c=3")).toEqual(["a=1", "b=2", "c=3"]);
  });

  it("applyHeaders() appends Set-Cookie, merges Vary and replaces the rest", () => {
    const headers = new Headers({ Vary: "Accept-Encoding", "Cache-Control": "max-age=60" });
    headers.append("Set-Cookie", "theme=dark; Path=/");
    applyHeaders(headers, [
      ["Vary", "Cookie"],
      ["Set-Cookie", "__Host-sid=v; Path=/"],
      ["Cache-Control", "no-store"],
    ]);
    expect(headers.getSetCookie()).toEqual(["theme=dark; Path=/", "__Host-sid=v; Path=/"]);
    expect(headers.get("vary")).toBe("Accept-Encoding, Cookie");
    expect(headers.get("cache-control")).toBe("no-store");
  });
});

describe("assertManager(manager, adapterName)", () => {
  it("throws a TypeError naming the adapter for anything that is not a SessionManager", () => {
    for (const value of [undefined, null, {}, { load: 1 }, "manager"]) {
      expect(() => assertManager(value, "@sessionkit/test")).toThrow(
        new TypeError(
          `@sessionkit/test: pass a SessionManager from createSessionManager() (got ${
            value === null ? "null" : typeof value === "string" ? '"manager"' : typeof value
          })`,
        ),
      );
    }
    expect(() => assertManager({ load: async () => ({}) }, "@sessionkit/test")).not.toThrow();
  });
});

describe("resolveAdapterOptions(adapterName, options)", () => {
  it('defaults sessionName to "session" and leaves onError to the adapter', () => {
    expect(resolveAdapterOptions("@sessionkit/test", undefined)).toEqual({
      sessionName: "session",
      onError: undefined,
    });
    const onError = () => {};
    expect(resolveAdapterOptions("@sessionkit/test", { sessionName: "prefs", onError })).toEqual({
      sessionName: "prefs",
      onError,
    });
  });

  it("rejects a slot name that is not an identifier or would touch prototypes with INVALID_CONFIG", () => {
    for (const sessionName of ["", "a-b", "1x", "__proto__", "constructor", "prototype", 7]) {
      let thrown: unknown;
      try {
        resolveAdapterOptions("@sessionkit/test", { sessionName: sessionName as string });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, String(sessionName)).toMatchObject({ code: ErrorCode.INVALID_CONFIG });
      expect((thrown as Error).message).toMatch(/^@sessionkit\/test: sessionName must be/);
    }
  });

  it("rejects options that are not an object and an onError that is not a function", () => {
    expect(() => resolveAdapterOptions("@sessionkit/test", null as never)).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_CONFIG }),
    );
    expect(() => resolveAdapterOptions("@sessionkit/test", { onError: "log" })).toThrow(
      '@sessionkit/test: onError must be a function (got "log")',
    );
  });
});

describe("slotState(existing, session, adapterName, slot)", () => {
  it("is free when empty, same for this very session, and a TypeError for another manager's", () => {
    const session = {};
    expect(slotState(undefined, session, "@sessionkit/test", "req.session")).toBe("free");
    expect(slotState(session, session, "@sessionkit/test", "req.session")).toBe("same");
    expect(slotState({}, session, "@sessionkit/test", "req.session")).toEqual(
      new TypeError(
        "@sessionkit/test: req.session is already set: give each session middleware its own sessionName",
      ),
    );
  });
});

describe("RequestFailures", () => {
  it("shouldCommit(request) is true until the request is marked failed, per request", () => {
    const failures = new RequestFailures();
    const [threw, fine] = [{}, {}];
    expect(failures.shouldCommit(threw)).toBe(true);
    failures.markFailed(threw);
    expect(failures.shouldCommit(threw)).toBe(false);
    expect(failures.shouldCommit(fine)).toBe(true);
  });
});

describe("failureReporter(onError, fallback)", () => {
  it("hands every failure to the app's onError, raised to the framework or not", () => {
    const onError = vi.fn();
    const fallback = vi.fn();
    const report = failureReporter(onError, fallback);
    report("raised", "ctx", true);
    report("answered", "ctx", false);
    expect(onError.mock.calls).toEqual([
      ["raised", "ctx"],
      ["answered", "ctx"],
    ]);
    expect(fallback).not.toHaveBeenCalled();
  });

  it("without onError, reports through the fallback only what the framework does not report", () => {
    const fallback = vi.fn();
    const report = failureReporter(undefined, fallback);
    report("raised", "ctx", true);
    report("answered", "ctx", false);
    expect(fallback.mock.calls).toEqual([["answered", "ctx"]]);
  });
});

describe("objectSlot()", () => {
  it("keeps a value per object, invisible on it, and forgets it on undefined", () => {
    const slot = objectSlot<number>("test.slot");
    const other = objectSlot<number>("test.slot");
    const plain = { a: 1 };
    const frozen = Object.freeze({ b: 2 });
    const refusing = new Proxy(
      {},
      {
        defineProperty: () => {
          throw new Error("no");
        },
      },
    );
    for (const [index, target] of [plain, frozen, refusing].entries()) {
      expect(slot.get(target)).toBeUndefined();
      slot.set(target, index + 10);
      slot.set(target, index + 20);
      expect(slot.get(target)).toBe(index + 20);
      // Two slots never see each other's values, even with the same description.
      expect(other.get(target)).toBeUndefined();
      slot.set(target, undefined);
      expect(slot.get(target)).toBeUndefined();
    }
    slot.set(plain, 5);
    expect(Object.keys(plain)).toEqual(["a"]);
    expect(JSON.stringify(plain)).toBe('{"a":1}');
    expect(Object.getOwnPropertySymbols({ ...plain })).toEqual([]);
    expect(slot.get({ ...plain })).toBeUndefined();
  });

  it("adds one hidden property to an object, however many slots keep values on it", () => {
    const slots = [objectSlot<number>("a"), objectSlot<number>("b"), objectSlot<number>("c")];
    const target = {};
    for (const [index, slot] of slots.entries()) slot.set(target, index);
    expect(slots.map((slot) => slot.get(target))).toEqual([0, 1, 2]);
    expect(Reflect.ownKeys(target)).toHaveLength(1);
    // Forgetting one value leaves the others.
    slots[1]?.set(target, undefined);
    expect(slots.map((slot) => slot.get(target))).toEqual([0, undefined, 2]);
  });

  it("never reads or writes the values an object inherits from its prototype", () => {
    const slot = objectSlot<string>("test.inherited");
    const parent = {};
    slot.set(parent, "parent");
    const child = Object.create(parent) as object;
    expect(slot.get(child)).toBeUndefined();
    slot.set(child, "child");
    expect(slot.get(child)).toBe("child");
    expect(slot.get(parent)).toBe("parent");
  });
});

describe("commitForResponse(session)", () => {
  it("answers an unchanged session's headers at once, with no promise and no store call (A24)", async () => {
    const h = harness<{ visits: number }>();
    const created = await h.sessions.load(h.request());
    created.set("visits", 1);
    const cookie = h.cookieFrom((await created.commit()).headers);
    const session = await h.sessions.load(h.request(cookie));
    h.store.reset();
    expect(session.get("visits")).toBe(1);
    const headers = commitForResponse(session);
    expect(headers).toEqual([["Vary", "Cookie"]]);
    expect(headers).not.toBeInstanceOf(Promise);
    expect(h.store.calls).toEqual({});
  });

  it("commits a changed session and answers a promise of what commit() would have sent", async () => {
    const h = harness<{ visits: number }>();
    const session = await h.sessions.load(h.request());
    session.set("visits", 1);
    const headers = commitForResponse(session);
    expect(headers).toBeInstanceOf(Promise);
    const sent = await headers;
    expect(sent.map(([name]) => name)).toEqual(["Vary", "Set-Cookie", "Cache-Control"]);
    const again = await h.sessions.load(h.request(h.cookieFrom(sent)));
    expect(again.get("visits")).toBe(1);
  });

  it("rejects as commit() does when the store fails, and throws nothing", async () => {
    const h = harness<{ visits: number }>();
    const session = await h.sessions.load(h.request());
    session.set("visits", 1);
    vi.spyOn(h.store, "set").mockRejectedValue(down());
    await expect(commitForResponse(session)).rejects.toMatchObject({
      code: ErrorCode.STORE_UNAVAILABLE,
    });
  });

  it("commits a session it does not know (another copy of the package's) through its commit()", async () => {
    const commit = vi.fn(async () => ({
      outcome: "unchanged" as const,
      headers: [["X-Other", "1"] as const],
    }));
    const foreign = { commit } as unknown as Parameters<typeof commitForResponse>[0];
    expect(await commitForResponse(foreign)).toEqual([["X-Other", "1"]]);
    expect(commit).toHaveBeenCalledOnce();
  });
});
