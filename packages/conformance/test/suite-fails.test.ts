import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The suite must be able to fail: each store of test/fixtures breaks one rule
 * (B-8: the memory store kept working after close(), accepted keys({ limit: 0 })
 * and touch(key, NaN); B-10: a clock read once) and the group for that rule
 * must fail it, with these exact tests and a message naming the rule.
 */
interface AssertionResult {
  readonly ancestorTitles: readonly string[];
  readonly title: string;
  readonly status: string;
  readonly failureMessages: readonly string[];
}

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vitestCli = join(
  dirname(createRequire(import.meta.url).resolve("vitest/package.json")),
  "vitest.mjs",
);
let dir: string;
let results: AssertionResult[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sk_conformance_fixture_"));
  const report = join(dir, "report.json");
  const run = spawnSync(
    process.execPath,
    [vitestCli, "run", "--root", root, "--config", "vitest.fixtures.config.ts"],
    { cwd: root, env: { ...process.env, CONFORMANCE_FIXTURE_REPORT: report }, encoding: "utf8" },
  );
  expect(run.status, `the fixture run must fail:\n${run.stdout}\n${run.stderr}`).toBe(1);
  const parsed = JSON.parse(readFileSync(report, "utf8")) as {
    testResults: { assertionResults: AssertionResult[] }[];
  };
  results = parsed.testResults.flatMap((file) => file.assertionResults);
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The failed tests of one broken store, as "group > test". */
const failedOf = (store: string): string[] =>
  results
    .filter((r) => r.ancestorTitles[0] === store && r.status === "failed")
    .map((r) => `${r.ancestorTitles.slice(1).join(" > ")} > ${r.title}`)
    .sort();

const messagesOf = (store: string, title: string): string =>
  results
    .filter((r) => r.ancestorTitles[0] === store && r.title === title)
    .flatMap((r) => r.failureMessages)
    .join("\n");

describe("the suite fails stores that break the contract", () => {
  it("closedGroup fails a store that keeps working after close(), once per method", () => {
    expect(failedOf("keeps working after close()")).toEqual(
      [
        "closed > after close(), get, set and destroy reject with STORE_UNAVAILABLE",
        "closed > after close(), touch(key, expiresAt) rejects with STORE_UNAVAILABLE",
        "closed > after close(), rename(old, new, record) rejects with STORE_UNAVAILABLE",
        "closed > after close(), listByUser(userId) rejects with STORE_UNAVAILABLE",
        "closed > after close(), destroyByUser(userId) rejects with STORE_UNAVAILABLE",
        "closed > after close(), count() rejects with STORE_UNAVAILABLE",
        "closed > after close(), clear() rejects with STORE_UNAVAILABLE",
        "closed > after close(), keys({ limit: 10 }) rejects with STORE_UNAVAILABLE",
        "closed > after close(), gc() rejects with STORE_UNAVAILABLE",
      ].sort(),
    );
    expect(
      messagesOf(
        "keeps working after close()",
        "after close(), get, set and destroy reject with STORE_UNAVAILABLE",
      ),
    ).toContain("get(key) after close() must reject with a SessionError of code STORE_UNAVAILABLE");
  });

  it('expiryGroup (clock: "suite") fails a store that read the clock once, at construction', () => {
    expect(failedOf("reads the clock once, at construction")).toEqual(
      [
        "expiry > get(key) returns null once expiresAt has passed",
        "expiry > get(key) returns the record until 1 ms before expiresAt, and null at expiresAt (A20)",
        "expiry > set(key, record, { ifVersion: n }) does not update an expired record",
        "expiry > set(key, record, { ifVersion: 0 }) treats an expired record as absent",
      ].sort(),
    );
    expect(
      messagesOf(
        "reads the clock once, at construction",
        "get(key) returns null once expiresAt has passed",
      ),
    ).toContain("contract rule broken: get(key) returns null once expiresAt has passed");
  });

  it("argumentsGroup fails each call answered its own way, naming the call", () => {
    const store = "answers malformed calls its own way";
    expect(failedOf(store)).toEqual(
      [
        "arguments > get(key) rejects a malformed key with a TypeError",
        "arguments > listByUser(userId) with a lone surrogate or NUL rejects with INVALID_DATA (A27)",
        "arguments > touch(key, expiresAt) rejects NaN, 1.5, Infinity or a string with a TypeError and changes nothing",
        "arguments > keys({ limit }) rejects 0, 1001, 1.5, -1 and NaN with a TypeError",
      ].sort(),
    );
    expect(messagesOf(store, "get(key) rejects a malformed key with a TypeError")).toContain(
      "must return a rejected promise, never throw synchronously",
    );
    expect(
      messagesOf(store, "keys({ limit }) rejects 0, 1001, 1.5, -1 and NaN with a TypeError"),
    ).toContain("keys({ limit: 0 }) must reject with a TypeError");
  });

  it("gcGroup fails a gc() that over-counts, with the exact count", () => {
    expect(failedOf("counts one too many in gc()")).toEqual([
      "gc > gc() deletes exactly the expired records, resolves to their number, and keeps live ones",
      "gc > gc() resolves to 0 when nothing has expired",
    ]);
    expect(
      messagesOf(
        "counts one too many in gc()",
        "gc() deletes exactly the expired records, resolves to their number, and keeps live ones",
      ),
    ).toContain("gc() must resolve to the number it deleted: expected 6 to be 5");
  });
});
