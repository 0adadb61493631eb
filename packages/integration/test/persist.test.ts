import { storeCases } from "@sessionkit/adapter-scenarios";
import { createSessionManager, type SessionStore } from "@sessionkit/core";
import { storeKeyOf } from "@sessionkit/core/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// "Remember me" per session over every real store: the record's expiry on the
// server follows the session's own cookie lifetime.

const SECRET = "integration-secret-UmVtZW1iZXIgbWUgb24gZXZlcnkgc3RvcmU";
const DAY = 24 * 3_600_000;
const MINUTE = 60_000;

const setCookieOf = (headers: readonly (readonly [string, string])[]) =>
  headers.find(([name]) => name === "Set-Cookie")?.[1] ?? "";
const pairOf = (setCookie: string) => setCookie.slice(0, setCookie.indexOf(";"));
const keyOf = (pair: string) => storeKeyOf(pair.slice(pair.indexOf("=") + 1, pair.indexOf(".")));
const request = (cookie?: string) => new Headers(cookie === undefined ? {} : { cookie });

for (const storeCase of storeCases().filter((c) =>
  ["memory", "sqlite", "redis", "postgres"].includes(c.name),
)) {
  describe(`session.persist() on ${storeCase.name}`, () => {
    let store: SessionStore;
    beforeAll(async () => {
      store = await storeCase.create();
    });
    afterAll(async () => {
      await storeCase.dispose(store);
    });

    const manager = () =>
      createSessionManager<{ user?: string }>({
        store,
        secrets: [SECRET],
        idleTimeoutMs: 30 * MINUTE,
        absoluteTimeoutMs: 60 * DAY,
      });

    it("persist(30 days): a 30-day cookie, and the server keeps the record 30 days past the last write", async () => {
      const sessions = manager();
      const before = Date.now();
      const phone = await sessions.load(request());
      const setCookie = setCookieOf(
        (
          await phone
            .set("user", "u1")
            .persist(30 * DAY)
            .commit()
        ).headers,
      );
      expect(setCookie).toContain(`Max-Age=${30 * 24 * 3600};`);
      const record = await store.get(keyOf(pairOf(setCookie)));
      expect(record?.expiresAt).toBeGreaterThanOrEqual(before + 30 * DAY);
      expect(record?.expiresAt).toBeLessThanOrEqual(Date.now() + 30 * DAY);
    });

    it("without persist() the cookie is a browser-session cookie and the record lives idleTimeoutMs", async () => {
      const sessions = manager();
      const before = Date.now();
      const laptop = await sessions.load(request());
      const setCookie = setCookieOf((await laptop.set("user", "u1").commit()).headers);
      expect(setCookie).not.toContain("Max-Age");
      const record = await store.get(keyOf(pairOf(setCookie)));
      expect(record?.expiresAt).toBeGreaterThanOrEqual(before + 30 * MINUTE);
      expect(record?.expiresAt).toBeLessThanOrEqual(Date.now() + 30 * MINUTE);
    });

    it("persistence survives regenerate(), and persist(false) brings back the idle timeout", async () => {
      const sessions = manager();
      const first = await sessions.load(request());
      const cookie = pairOf(
        setCookieOf(
          (
            await first
              .set("user", "u1")
              .persist(7 * DAY)
              .commit()
          ).headers,
        ),
      );
      const login = await sessions.load(request(cookie));
      const moved = setCookieOf((await login.regenerate().commit()).headers);
      expect(moved).toContain(`Max-Age=${7 * 24 * 3600};`);
      expect(await store.get(keyOf(cookie))).toBeNull();

      const forget = await sessions.load(request(pairOf(moved)));
      const before = Date.now();
      const after = setCookieOf((await forget.persist(false).commit()).headers);
      expect(after).not.toContain("Max-Age");
      const record = await store.get(keyOf(pairOf(moved)));
      expect(record?.expiresAt).toBeGreaterThanOrEqual(before + 30 * MINUTE);
      expect(record?.expiresAt).toBeLessThanOrEqual(Date.now() + 30 * MINUTE);
    });
  });
}
