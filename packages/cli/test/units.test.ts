import { describe, expect, it } from "vitest";
import { clockCheck } from "../src/check.js";
import { inlineParameters, sqlLiteral } from "../src/migrate.js";
import { renderBar } from "../src/progress.js";
import { evictionCheck, parseInfo } from "../src/redis-doctor.js";
import { fileModeCheck } from "../src/sqlite-doctor.js";
import { parseSqliteUrl, redactUrl } from "../src/url.js";

describe("evictionCheck(policy, maxmemory)", () => {
  it("noeviction is ok", () => {
    expect(evictionCheck("noeviction", 1024, "").status).toBe("ok");
  });
  it.each([
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
  ])("%s with a memory limit is an error", (policy) => {
    expect(evictionCheck(policy, 1024, "").status).toBe("error");
  });
  it("an evicting policy with maxmemory 0 is a warning", () => {
    expect(evictionCheck("volatile-lru", 0, "").status).toBe("warning");
  });
});

describe("clockCheck(server, sent, received)", () => {
  it("skew within the round trip's uncertainty is ok", () => {
    expect(clockCheck(1_000_050, 1_000_000, 1_000_100, "Redis")).toEqual({
      id: "clock",
      status: "ok",
      message: "the Redis clock is 0 ms ahead of this machine's (±50 ms)",
    });
  });
  it("skew of 1 s beyond the uncertainty is a warning", () => {
    // Midpoint 1_000_010, uncertainty ±10 ms: 1040 ms beyond it warns, 980 ms does not.
    expect(clockCheck(1_001_060, 1_000_000, 1_000_020, "Redis").status).toBe("warning");
    expect(clockCheck(1_001_000, 1_000_000, 1_000_020, "Redis").status).toBe("ok");
  });
  it("skew of 30 s is an error, in either direction", () => {
    const check = clockCheck(970_000, 1_000_000, 1_000_000, "PostgreSQL");
    expect(check.status).toBe("error");
    expect(check.message).toBe("the PostgreSQL clock is 30000 ms behind this machine's (±0 ms)");
  });
});

describe("fileModeCheck(path, mode)", () => {
  it.each([
    [0o600, "ok"],
    [0o400, "ok"],
    [0o640, "warning"],
    [0o660, "warning"],
    [0o604, "error"],
    [0o666, "error"],
  ])("mode %o is %s", (mode, status) => {
    expect(fileModeCheck("s.db", 0o100000 | mode).status).toBe(status);
  });
});

describe("renderBar(label, done, total)", () => {
  it("draws 30 cells and a percentage", () => {
    expect(renderBar("gc", 1, 3)).toBe(`gc [${"#".repeat(10)}${"-".repeat(20)}]  33% 1/3`);
    expect(renderBar("gc", 0, 0)).toBe(`gc [${"#".repeat(30)}] 100% 0/0`);
    expect(renderBar("gc", 5, 3)).toBe(`gc [${"#".repeat(30)}] 100% 5/3`);
  });
});

describe("inlineParameters(text, values)", () => {
  it("puts $n and ? parameters in place as SQL literals", () => {
    expect(inlineParameters("VALUES ($1, $2, $3)", ["it's", 1, null])).toBe(
      "VALUES ('it''s', 1, NULL)",
    );
    expect(inlineParameters("VALUES (?, ?)", ["t", 2])).toBe("VALUES ('t', 2)");
    expect(sqlLiteral(true)).toBe("TRUE");
  });
});

describe("URLs", () => {
  it("redactUrl hides user info and password parameters", () => {
    expect(redactUrl("redis://user:pw@h:1/0")).toBe("redis://***@h:1/0");
    expect(redactUrl("redis+sentinel://h:26379/m?sentinelPassword=abc")).toBe(
      "redis+sentinel://h:26379/m?sentinelPassword=***",
    );
    expect(redactUrl("postgres://h/db?password=abc&table=t")).toBe(
      "postgres://h/db?password=***&table=t",
    );
  });

  it("parseSqliteUrl reads the path and table", () => {
    expect(parseSqliteUrl("sqlite:./a.db?table=t")).toEqual({ path: "./a.db", table: "t" });
    expect(parseSqliteUrl("sqlite:///abs/a.db")).toEqual({
      path: "/abs/a.db",
      table: "sessionkit_sessions",
    });
    expect(parseSqliteUrl("sqlite::memory:").path).toBe(":memory:");
  });
});

describe("parseInfo(text)", () => {
  it("reads key:value lines and skips sections", () => {
    const info = parseInfo("# Memory\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\n");
    expect([...info]).toEqual([
      ["maxmemory", "0"],
      ["maxmemory_policy", "noeviction"],
    ]);
  });
});
