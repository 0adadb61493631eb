import {
  ErrorCode,
  type InstrumentedOperation,
  type OperationDetails,
  type SessionInstrumentation,
  type SessionStore,
} from "@sessionkit/core";
import { describe, expect, it } from "vitest";
import { harness } from "./helpers.js";

interface Entry {
  operation: InstrumentedOperation;
  details?: OperationDetails;
  error?: string;
  depth: number;
}

/** Records every wrapped operation with its nesting depth, the way a tracer nests spans. */
function recorder(): SessionInstrumentation & { entries: Entry[] } {
  const entries: Entry[] = [];
  let depth = 0;
  return {
    entries,
    async wrap(operation, run) {
      const entry: Entry = { operation, depth };
      entries.push(entry);
      depth++;
      try {
        return await run((details) => {
          expect(entry.details).toBeUndefined();
          entry.details = details;
        });
      } catch (error) {
        entry.error = (error as { code?: string }).code ?? "unknown";
        throw error;
      } finally {
        depth--;
      }
    },
  };
}

const summary = (entries: Entry[]) =>
  entries.map(
    (e) =>
      `${"  ".repeat(e.depth)}${e.operation.kind}:${e.operation.operation}` +
      (e.details?.outcome === undefined ? "" : ` ${e.details.outcome}`) +
      (e.details?.retries ? ` retries=${e.details.retries}` : "") +
      (e.error === undefined ? "" : ` !${e.error}`),
  );

describe("instrumentation hooks", () => {
  it("while recording() answers false no operation goes through wrap(); once true, every one does", async () => {
    const instrumentation = recorder();
    let recording = false;
    const h = harness({ instrumentation: { ...instrumentation, recording: () => recording } });
    const first = await h.sessions.load(h.request());
    first.set("count", 1);
    const cookie = h.cookieFrom((await first.commit()).headers);
    const quiet = await h.sessions.load(h.request(cookie));
    await quiet.set("count", 2).commit();
    expect(instrumentation.entries).toEqual([]);
    recording = true;
    const loud = await h.sessions.load(h.request(cookie));
    await loud.set("count", 3).commit();
    expect(summary(instrumentation.entries)).toEqual([
      "load:load found",
      "  store:get",
      "commit:commit updated",
      "  store:set",
    ]);
    expect(() => harness({ instrumentation: { ...recorder(), recording: true as never } })).toThrow(
      /instrumentation.recording must be a function/,
    );
  });

  it("wrap() sees each load, commit and store call, store calls nested inside", async () => {
    const instrumentation = recorder();
    const h = harness({ instrumentation });
    const first = await h.sessions.load(h.request());
    first.set("count", 1).setUser("user-1");
    const cookie = h.cookieFrom((await first.commit()).headers);
    const second = await h.sessions.load(h.request(cookie));
    second.set("count", 2);
    await second.commit();
    expect(summary(instrumentation.entries)).toEqual([
      "load:load none",
      "commit:commit created",
      "  store:set",
      "load:load found",
      "  store:get",
      "commit:commit updated",
      "  store:set",
    ]);
    for (const entry of instrumentation.entries) {
      expect(entry.operation).toEqual({
        kind: entry.operation.kind,
        operation: entry.operation.operation,
        store: "map",
        sessionName: "__Host-sid",
      });
    }
    // No token, store key or user id reaches the hooks.
    const seen = JSON.stringify(instrumentation.entries);
    expect(seen).not.toContain("user-1");
    expect(seen).not.toMatch(/[0-9a-f]{64}/);
    expect(seen).not.toContain(cookie.slice(cookie.indexOf("=") + 1, cookie.indexOf(".")));
  });

  it("a commit that had to merge a concurrent write reports its retries", async () => {
    const instrumentation = recorder();
    const h = harness({ instrumentation });
    const first = await h.sessions.load(h.request());
    const cookie = h.cookieFrom((await first.set("a", 1).commit()).headers);
    const one = await h.sessions.load(h.request(cookie));
    const two = await h.sessions.load(h.request(cookie));
    await one.set("b", 2).commit();
    instrumentation.entries.length = 0;
    await two.set("c", 3).commit();
    expect(summary(instrumentation.entries)).toEqual([
      "commit:commit updated retries=1",
      "  store:set",
      "  store:get",
      "  store:set",
    ]);
  });

  it("a failing store call rejects through wrap() with its code", async () => {
    const instrumentation = recorder();
    const h = harness({ instrumentation });
    const failing: SessionStore = {
      ...h.store,
      name: "memory",
      capabilities: h.store.capabilities,
      get: () => Promise.reject(new Error("down")),
      set: h.store.set.bind(h.store),
      destroy: h.store.destroy.bind(h.store),
    };
    const broken = harness({ instrumentation, store: failing });
    const first = await h.sessions.load(h.request());
    const cookie = h.cookieFrom((await first.set("a", 1).commit()).headers);
    instrumentation.entries.length = 0;
    await expect(broken.sessions.load(broken.request(cookie))).rejects.toMatchObject({
      code: ErrorCode.STORE_ERROR,
    });
    expect(summary(instrumentation.entries)).toEqual([
      "load:load !STORE_ERROR",
      "  store:get !STORE_ERROR",
    ]);
  });

  it("an instrumentation without wrap() is refused at start-up", () => {
    expect(() => harness({ instrumentation: {} as SessionInstrumentation })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_CONFIG }),
    );
  });
});
