import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteStore } from "@sessionkit/store-sqlite";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { sessionkit, sessionkitInTerminal, unique } from "./cli.js";
import { newKey, record, seed } from "./seed.js";

const dir = mkdtempSync(join(tmpdir(), "sk-cli-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fresh = (): string => join(dir, `${unique("s")}.db`);

interface Report {
  checks: { id: string; status: string; message: string; fix?: string }[];
}

async function doctorJson(path: string): Promise<{ code: number | null; report: Report }> {
  const result = await sessionkit(["doctor", "--json", "--store", `sqlite:${path}`]);
  expect(result.stderr).toBe("");
  return { code: result.code, report: JSON.parse(result.stdout) as Report };
}

/** Inserts `count` rows that expired a minute ago. */
function insertExpired(path: string, count: number): void {
  const db = new Database(path);
  const insert = db.prepare(
    "INSERT INTO sessionkit_sessions (key, payload, expires_at, created_at, version) VALUES (?, '{}', ?, ?, 1)",
  );
  const past = Date.now() - 60_000;
  db.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(newKey(), past, past);
  })();
  db.close();
}

describe("sessionkit doctor and migrate (SQLite)", () => {
  it("doctor on a missing file is an error and creates nothing", async () => {
    const path = fresh();
    const { code, report } = await doctorJson(path);
    expect(code).toBe(2);
    expect(report.checks).toEqual([
      {
        id: "file",
        status: "error",
        message: `${path} does not exist`,
        fix: "check the path (relative paths are resolved from the current directory); the store creates the file, with mode 0600, when it first opens it",
      },
    ]);
    expect(existsSync(path)).toBe(false);
  });

  it("stats on a missing file refuses instead of creating an empty database", async () => {
    const path = fresh();
    const result = await sessionkit(["stats", "--store", `sqlite:${path}`]);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: `sessionkit: cannot open sqlite:${path}: ${path} does not exist (sessionkit migrate creates it)\n`,
    });
    expect(existsSync(path)).toBe(false);
  });

  it("migrate --dry-run prints the SQL and creates no file", async () => {
    const path = fresh();
    const result = await sessionkit(["migrate", "--dry-run", "--store", `sqlite:${path}`]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(
      `-- sqlite:${path}: schema version 0 -> 1 (dry run: nothing was changed)`,
    );
    expect(lines).toContain('CREATE TABLE IF NOT EXISTS "sessionkit_schema_version" (');
    expect(lines).toContain('CREATE TABLE "sessionkit_sessions" (');
    expect(lines).toContain(
      'CREATE INDEX "sessionkit_sessions_expires_at_idx" ON "sessionkit_sessions" (expires_at);',
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^INSERT INTO "sessionkit_schema_version" \(table_name, version, migrated_at\) VALUES \('sessionkit_sessions', 1, \d{13}\)$/,
      ),
    );
    expect(existsSync(path)).toBe(false);
  });

  it("migrate --dry-run on an existing unmigrated file rolls everything back", async () => {
    const path = fresh();
    new Database(path).close();
    const result = await sessionkit([
      "migrate",
      "--dry-run",
      "--json",
      "--store",
      `sqlite:${path}`,
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ dryRun: true, fromVersion: 0, toVersion: 1 });
    expect(report.statements).toHaveLength(3);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get()).toBe(0);
    db.close();
  });

  it("migrate creates the file with mode 0600; doctor then finds no problems", async () => {
    const path = fresh();
    const migrate = await sessionkit(["migrate", "--store", `sqlite:${path}`]);
    expect(migrate).toEqual({
      code: 0,
      stdout: `sqlite:${path}: migrated from schema version 0 to 1\n`,
      stderr: "",
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const result = await sessionkit(["doctor", "--store", `sqlite:${path}`]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(`sessionkit doctor: sqlite:${path}`);
    expect(lines[1]).toMatch(
      new RegExp(`^  ok       version       SQLite 3\\.\\d+\\.\\d+, file ${path}$`),
    );
    expect(lines.slice(2)).toEqual([
      `  ok       file-mode     ${path} has mode 0600`,
      "  ok       journal-mode  journal mode WAL",
      "  ok       schema        table sessionkit_sessions at schema version 1",
      "  ok       indexes       indexes on key, expires_at and user_id present",
      "no problems found",
      "",
    ]);
  });

  it("a world-readable file is an error, a group-readable one a warning", async () => {
    const path = fresh();
    createSqliteStore({ url: `sqlite:${path}`, gcIntervalMs: false }).database.close();
    chmodSync(path, 0o644);
    const open = await doctorJson(path);
    expect(open.code).toBe(2);
    expect(open.report.checks.find((c) => c.id === "file-mode")).toEqual({
      id: "file-mode",
      status: "error",
      message: `${path} has mode 0644: every user of this machine can access the sessions`,
      fix: `chmod 600 ${path}`,
    });
    // Reading a WAL database leaves -wal and -shm files beside it, with the mode the main file had.
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      if (existsSync(file)) chmodSync(file, 0o640);
    }
    const group = await doctorJson(path);
    expect(group.code).toBe(1);
    expect(group.report.checks.find((c) => c.id === "file-mode")?.status).toBe("warning");
  });

  it("a file not in WAL mode is a warning", async () => {
    const path = fresh();
    await createSqliteStore({ url: `sqlite:${path}`, gcIntervalMs: false }).close();
    const db = new Database(path);
    db.pragma("journal_mode = DELETE");
    db.close();
    chmodSync(path, 0o600);
    const { code, report } = await doctorJson(path);
    expect(code).toBe(1);
    expect(report.checks.find((c) => c.id === "journal-mode")).toMatchObject({
      status: "warning",
      message: "journal mode delete, not WAL: readers block the writer",
    });
  });
});

describe("sessionkit stats, revoke and gc (SQLite)", () => {
  it("stats counts live and expired rows", async () => {
    const path = fresh();
    const store = createSqliteStore({ url: `sqlite:${path}`, gcIntervalMs: false });
    await seed(store, 2, "zoe");
    await store.close();
    insertExpired(path, 4);
    const result = await sessionkit(["stats", "--json", "--store", `sqlite:${path}`]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      live: 2,
      expired: 4,
      users: 1,
      anonymous: 0,
    });
  });

  it("revoke --user on a terminal asks, and revokes on yes", async () => {
    const path = fresh();
    const store = createSqliteStore({ url: `sqlite:${path}`, gcIntervalMs: false });
    await seed(store, 2, "yuri");
    await store.close();
    const question = `Revoke 2 session(s) of user "yuri" in sqlite:${path}? [y/N] `;
    const result = await sessionkitInTerminal(
      ["revoke", "--user", "yuri", "--store", `sqlite:${path}`],
      { waitFor: question, input: "yes\r" },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('revoked 2 session(s) of user "yuri"\r\n');
    const after = createSqliteStore({ url: `sqlite:${path}`, gcIntervalMs: false });
    expect(await after.listByUser("yuri")).toEqual([]);
    await after.close();
  });

  it("gc --json removes expired rows and keeps live ones", async () => {
    const path = fresh();
    const store = createSqliteStore({ url: `sqlite:${path}`, gcIntervalMs: false });
    await store.set(newKey(), record("x"), { ifVersion: 0 });
    await store.close();
    insertExpired(path, 1_500);
    const result = await sessionkit(["gc", "--json", "--store", `sqlite:${path}`]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      store: `sqlite:${path}`,
      supported: true,
      expired: 1500,
      removed: 1500,
    });
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM sessionkit_sessions").pluck().get()).toBe(1);
    db.close();
  });
});
