import { createSessionManager, jsonCodec } from "@sessionkit/core";
import { storeKeyOf } from "@sessionkit/core/store";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countingStore, SECRET } from "./helpers.js";
import { mapStore } from "./map-store.js";

const isPlain = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * The data a payload holds if it is sessionkit's envelope, worked out
 * independently of the decoder: `null` for anything else.
 */
function ourData(payload: string): Record<string, unknown> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload, (key, value) => (key === "__proto__" ? undefined : value));
  } catch {
    return null;
  }
  if (!isPlain(parsed) || !isPlain(parsed.d)) return null;
  const { f, v, p } = parsed;
  if (f !== undefined && !isPlain(f)) return null;
  if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 1)) return null;
  if (p !== undefined && !(Number.isSafeInteger(p) && (p as number) >= 0)) return null;
  return Object.fromEntries(
    Object.entries(parsed.d).filter(([key]) => key !== "constructor" && key !== "prototype"),
  );
}

describe("hostile input properties", () => {
  it("random header and query values never throw, never reach the store, never yield a session (A2, A9, A14)", async () => {
    const store = countingStore(mapStore());
    const sessions = createSessionManager({
      store,
      secrets: [SECRET],
      idFrom: { header: "X-Session-Id", query: "sid" },
    });
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.string({ maxLength: 200 }),
        async (header, query) => {
          const headers = new Headers();
          try {
            headers.set("x-session-id", header);
          } catch {
            // Not a valid header value for Fetch at all: nothing to test.
          }
          const session = await sessions.load({
            headers: { get: (name: string) => headers.get(name) },
            url: `/path?sid=${encodeURIComponent(query)}`,
          });
          expect(session.isNew).toBe(true);
        },
      ),
      { numRuns: 10_000 },
    );
    expect(store.calls).toEqual({});
  });

  it("jsonCodec round-trips any JSON value exactly, except that __proto__ keys are dropped (A26, A27)", () => {
    const withoutProto = (_key: string, v: unknown) => (_key === "__proto__" ? undefined : v);
    const prototypes = (v: unknown): boolean =>
      v === null || typeof v !== "object"
        ? true
        : [Object.prototype, Array.prototype].includes(Object.getPrototypeOf(v)) &&
          Object.values(v).every(prototypes);
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const decoded = jsonCodec.decode(jsonCodec.encode(value));
        expect(decoded).toEqual(JSON.parse(JSON.stringify(value), withoutProto));
        expect(prototypes(decoded)).toBe(true);
      }),
      { numRuns: 10_000 },
    );
  });

  it("any stored payload, however foreign, loads as a session or as none, never throws (A29)", async () => {
    const store = mapStore();
    const sessions = createSessionManager({ store, secrets: [SECRET] });
    const seed = await sessions.load(new Request("https://x.test"));
    seed.set("a", 1);
    const setCookie = (await seed.commit()).headers.find(([n]) => n === "Set-Cookie")?.[1] ?? "";
    const cookie = setCookie.slice(0, setCookie.indexOf(";"));
    const id = cookie.slice(cookie.indexOf("=") + 1, cookie.indexOf("."));
    const key = storeKeyOf(id);
    let version = 1;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ d: v })),
        ),
        async (payload) => {
          // Payloads no store may hold (see assertStorable) are out of scope here.
          fc.pre(!payload.includes("\u0000") && !/\p{Cs}/u.test(payload));
          const current = await store.get(key);
          const next = {
            ...(current ?? { createdAt: Date.now(), expiresAt: Date.now() + 60_000 }),
            payload,
            version: version + 1,
          };
          await store.destroy(key);
          await store.set(key, next, { ifVersion: 0 });
          version = next.version;
          const session = await sessions.load(
            new Request("https://x.test", { headers: { cookie } }),
          );
          expect(Object.getPrototypeOf({})).toBe(Object.prototype);
          const data = ourData(payload);
          if (data === null) {
            // Not ours: no session, and the record is gone (A29).
            expect(session.isNew).toBe(true);
            expect(await store.get(key)).toBeNull();
          } else {
            expect(session.isNew).toBe(false);
            expect(session.toJSON()).toEqual(data);
            expect(session.get("__proto__" as never)).toBeUndefined();
          }
        },
      ),
      { numRuns: 5_000 },
    );
  });
});
