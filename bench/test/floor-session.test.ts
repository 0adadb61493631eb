import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { floorSessions } from "../src/floor-session.js";

const SECRET = "floor-test-secret-0f3b8d2a6c4e1f9b7d5a3c8e0b2d4f6a";

/** A signed-in floor session: its `Cookie` header value. */
function signIn(floor: ReturnType<typeof floorSessions>, roles: string[] = ["user", "editor"]) {
  const session = floor.load(undefined);
  session.set("roles", roles);
  const setCookie = floor.commit(session);
  if (typeof setCookie !== "string") throw new Error("no cookie issued");
  return setCookie.slice(0, setCookie.indexOf(";"));
}

afterEach(() => {
  vi.useRealTimers();
});

// The floor is only a fair measure if it keeps the guarantees it claims.
describe("the hand-written floor session", () => {
  it("signs with HMAC-SHA256 over the cookie name and the id (A12)", () => {
    const cookie = signIn(floorSessions(SECRET));
    const [name, token] = cookie.split("=") as [string, string];
    const [id, mac] = token.split(".") as [string, string];
    expect(name).toBe("sid");
    expect(id).toMatch(/^[\w-]{43}$/);
    expect(mac).toBe(createHmac("sha256", SECRET).update(`sid\0${id}`).digest("base64url"));
  });

  it("loads a signed-in session, among other cookies, and no forged or altered one (A12)", () => {
    const floor = floorSessions(SECRET);
    const cookie = signIn(floor);
    expect(floor.load(cookie).get("roles")).toEqual(["user", "editor"]);
    expect(floor.load(`theme=dark; ${cookie}; lang=en`).get("roles")).toEqual(["user", "editor"]);
    const token = cookie.slice("sid=".length);
    const id = token.slice(0, 43);
    const forged = [
      `sid=${id}.${"A".repeat(43)}`,
      `sid=${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`,
      `sid=${token}x`,
      `sid=${token.slice(0, -1)}`,
      `xsid=${token}`,
      // Signed by another secret.
      signIn(floorSessions(`${SECRET}-other`)),
    ];
    for (const header of forged) expect(floor.load(header).get("roles")).toBeUndefined();
    expect(floor.load(undefined).get("roles")).toBeUndefined();
  });

  it("writes a change under compare-and-set: a stale copy writes nothing", () => {
    const floor = floorSessions(SECRET);
    const cookie = signIn(floor);
    const first = floor.load(cookie);
    const second = floor.load(cookie);
    first.set("visits", 1);
    expect(floor.commit(first)).toBeUndefined();
    second.set("visits", 2);
    expect(floor.commit(second)).toBe(false);
    expect(floor.load(cookie).get("visits")).toBe(1);
    // An unchanged session writes nothing and issues no cookie.
    expect(floor.commit(floor.load(cookie))).toBeUndefined();
  });

  it("hands each request its own copy of the data", () => {
    const floor = floorSessions(SECRET);
    const cookie = signIn(floor);
    (floor.load(cookie).get("roles") as string[]).push("admin");
    expect(floor.load(cookie).get("roles")).toEqual(["user", "editor"]);
  });

  it("ignores a session past its idle timeout", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-12-07T10:00:00Z"));
    const floor = floorSessions(SECRET);
    const cookie = signIn(floor);
    vi.setSystemTime(new Date("2026-12-07T10:29:59Z"));
    const live = floor.load(cookie);
    expect(live.get("roles")).toEqual(["user", "editor"]);
    vi.setSystemTime(new Date("2026-12-07T10:30:00Z"));
    expect(floor.load(cookie).get("roles")).toBeUndefined();
    // Nor can a copy loaded before it expired write it back.
    live.set("visits", 1);
    expect(floor.commit(live)).toBe(false);
  });

  it("drops __proto__ keys when it decodes", () => {
    const floor = floorSessions(SECRET);
    const session = floor.load(undefined);
    session.set("profile", JSON.parse('{"__proto__":{"polluted":true},"name":"a"}'));
    const setCookie = floor.commit(session) as string;
    const loaded = floor.load(setCookie.slice(0, setCookie.indexOf(";")));
    const profile = loaded.get("profile") as Record<string, unknown>;
    expect(profile.name).toBe("a");
    expect(Object.hasOwn(profile, "__proto__")).toBe(false);
    expect((profile as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it("refuses a session larger than 64 KiB encoded", () => {
    const floor = floorSessions(SECRET);
    const session = floor.load(undefined);
    session.set("blob", "x".repeat(64 * 1024));
    expect(() => floor.commit(session)).toThrow(RangeError);
  });
});
