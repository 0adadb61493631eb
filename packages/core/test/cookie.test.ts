import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findCookieValues, MAX_COOKIE_HEADER_LENGTH, serializeCookie } from "../src/cookie.js";

const NAME = "__Host-sid";

describe("findCookieValues (A7, A8)", () => {
  it("finds a cookie among others and trims only SP and HTAB", () => {
    expect(findCookieValues("a=1; __Host-sid=abc; b=2", NAME)).toEqual(["abc"]);
    expect(findCookieValues(" \t__Host-sid \t= \tabc \t;x=y", NAME)).toEqual(["abc"]);
    expect(findCookieValues("__Host-sid=\u00a0abc", NAME)).toEqual(["\u00a0abc"]);
  });

  it("returns duplicates in header order, at most `limit`", () => {
    expect(findCookieValues("__Host-sid=1; __Host-sid=2; __Host-sid=3", NAME, 2)).toEqual([
      "1",
      "2",
    ]);
  });

  it.each([
    ["percent-encoded name", "__Host%2Dsid=abc"],
    ["case change", "__host-sid=abc"],
    ["Unicode space inside the name", "__Host-\u00a0sid=abc"],
    ["leading NBSP", "\u00a0__Host-sid=abc"],
    ["prefix only", "__Host-si=abc"],
    ["longer name", "__Host-sidx=abc"],
    ["nameless pair", "=abc"],
    ["no equals sign", "__Host-sid"],
  ])("a look-alike (%s) never matches", (_label, header) => {
    expect(findCookieValues(header, NAME)).toEqual([]);
  });

  it("values are never percent-decoded or unquoted", () => {
    expect(findCookieValues('__Host-sid="a%20b"', NAME)).toEqual(['"a%20b"']);
  });

  it("headers over the size bound are not read", () => {
    const header = `__Host-sid=abc; ${"x=y; ".repeat(MAX_COOKIE_HEADER_LENGTH / 5)}`;
    expect(header.length).toBeGreaterThan(MAX_COOKIE_HEADER_LENGTH);
    expect(findCookieValues(header, NAME)).toEqual([]);
  });

  it.each([
    // Spaces are trimmed, so the pair after them is found; after 32 K separators
    // the 1,024-pair bound has stopped the scan; glued to other bytes it is no pair.
    ["semicolons", ";", []],
    ["spaces", " ", ["z"]],
    ["backslashes", "\\", []],
    ["percent signs", "%", []],
    ["equals signs", "=", []],
    ["semicolon-space", "; ", []],
  ])("32 KB of %s parse without error and find nothing", (_label, unit, after) => {
    const header = unit.repeat(Math.floor(32_768 / unit.length));
    expect(findCookieValues(header, NAME)).toEqual([]);
    expect(findCookieValues(`${header}${NAME}=z`, NAME)).toEqual(after);
  });

  it("never throws and only returns values of exactly-named pairs (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 400 }),
        fc.constantFrom(NAME, "sid", "a"),
        (header, name) => {
          const values = findCookieValues(header, name);
          for (const value of values) {
            expect(header).toContain(value);
            expect(value).not.toContain(";");
            expect(value).not.toMatch(/^[ \t]|[ \t]$/);
          }
          expect(values.length).toBeLessThanOrEqual(4);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it("finds a planted cookie anywhere among random well-formed pairs (property)", () => {
    const pair = fc
      .tuple(
        fc.stringMatching(/^[a-zA-Z0-9_-]{1,12}$/),
        fc.stringMatching(/^[a-zA-Z0-9._-]{0,20}$/),
      )
      .filter(([name]) => name !== NAME);
    fc.assert(
      fc.property(
        fc.array(pair, { maxLength: 20 }),
        fc.nat(),
        fc.stringMatching(/^[A-Za-z0-9._-]{1,90}$/),
        (pairs, at, value) => {
          const parts = pairs.map(([n, v]) => `${n}=${v}`);
          parts.splice(at % (parts.length + 1), 0, `${NAME}=${value}`);
          expect(findCookieValues(parts.join("; "), NAME)).toEqual([value]);
        },
      ),
      { numRuns: 10_000 },
    );
  });
});

describe("serializeCookie (A10, A11)", () => {
  const attributes = {
    path: "/",
    domain: undefined,
    secure: true,
    httpOnly: true,
    sameSite: "lax" as const,
    partitioned: false,
  };

  it("serialises every attribute", () => {
    expect(
      serializeCookie(
        "sid",
        "v",
        { ...attributes, domain: "example.com", sameSite: "none", partitioned: true },
        60,
      ),
    ).toBe(
      "sid=v; Path=/; Domain=example.com; Max-Age=60; HttpOnly; Secure; SameSite=None; Partitioned",
    );
  });

  it("refuses a cookie over 4096 bytes with COOKIE_TOO_LARGE", () => {
    expect(() => serializeCookie("sid", "v".repeat(4100), attributes)).toThrow(
      expect.objectContaining({ code: "COOKIE_TOO_LARGE" }),
    );
  });
});
