import { execFile } from "node:child_process";
import { createServer, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "@sessionkit/conformance";
import { createPostgresStore, type PostgresStore } from "@sessionkit/store-postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireEnv, sessionkit, sessionkitInTerminal, unique } from "./cli.js";
import { newKey, record, seed } from "./seed.js";

const DATABASE_URL = requireEnv("DATABASE_URL");
const schema = unique("cli");
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const stores: PostgresStore[] = [];

afterAll(async () => {
  for (const store of stores) await store.close();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

/** A store URL on a table of its own in this file's schema. */
function tableUrl(table: string, base = DATABASE_URL): string {
  const url = new URL(base);
  url.searchParams.set("schema", schema);
  url.searchParams.set("table", table);
  return url.toString();
}

async function migratedStore(table: string): Promise<PostgresStore> {
  const store = createPostgresStore({
    url: DATABASE_URL,
    schema,
    table,
    gcIntervalMs: false,
  });
  stores.push(store);
  await store.migrate();
  return store;
}

async function tableExists(table: string): Promise<boolean> {
  const result = await admin.query("SELECT to_regclass($1) AS found", [`"${schema}"."${table}"`]);
  return result.rows[0]?.found !== null;
}

/** Inserts `count` rows that expired a minute ago, in one statement. */
async function insertExpired(table: string, count: number): Promise<void> {
  const keys = Array.from({ length: count }, () => newKey());
  const past = Date.now() - 60_000;
  await admin.query(
    `INSERT INTO "${schema}"."${table}" (key, payload, expires_at, created_at, version)
     SELECT k, '{}', $2, $2, 1 FROM unnest($1::text[]) AS k`,
    [keys, past],
  );
}

interface Report {
  checks: { id: string; status: string; message: string; fix?: string }[];
}

describe("sessionkit migrate (PostgreSQL)", () => {
  it("--dry-run prints the SQL of the pending migration and changes nothing", async () => {
    const table = unique("dry");
    const url = tableUrl(table);
    const result = await sessionkit(["migrate", "--dry-run", "--json", "--store", url]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ supported: true, dryRun: true, fromVersion: 0, toVersion: 1 });
    const firstLines = report.statements.map((s: string) => s.split("\n")[0]);
    expect(firstLines.slice(0, 5)).toEqual([
      `CREATE SCHEMA IF NOT EXISTS "${schema}"`,
      `CREATE TABLE IF NOT EXISTS "${schema}"."sessionkit_schema_version" (`,
      `CREATE TABLE IF NOT EXISTS "${schema}"."${table}" (`,
      `CREATE INDEX IF NOT EXISTS "${table}_expires_at_idx" ON "${schema}"."${table}" (expires_at)`,
      `CREATE INDEX IF NOT EXISTS "${table}_user_id_idx" ON "${schema}"."${table}" (user_id) WHERE user_id IS NOT NULL`,
    ]);
    // The version row, with its parameters (table, version, epoch ms) in place as literals.
    expect(firstLines[5]).toMatch(
      new RegExp(
        `^INSERT INTO "${schema}"\\."sessionkit_schema_version" \\(table_name, version, migrated_at\\) VALUES \\('${table}', 1, \\d{13}\\)$`,
      ),
    );
    expect(firstLines).toHaveLength(6);
    expect(await tableExists(table)).toBe(false);
    const schemas = await admin.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    expect(schemas.rowCount).toBe(0);
  });

  it("migrate creates the table, then reports it up to date; --dry-run then prints nothing to run", async () => {
    const table = unique("mig");
    const url = tableUrl(table);
    const shown = url.replace("postgres://postgres@", "postgres://***@");
    const first = await sessionkit(["migrate", "--store", url]);
    expect(first).toEqual({
      code: 0,
      stdout: `${shown}: migrated from schema version 0 to 1\n`,
      stderr: "",
    });
    expect(await tableExists(table)).toBe(true);
    const second = await sessionkit(["migrate", "--store", url]);
    expect(second.stdout).toBe(`${shown}: already at schema version 1\n`);
    const dry = await sessionkit(["migrate", "--dry-run", "--store", url]);
    expect(dry).toEqual({
      code: 0,
      stdout: `-- ${shown}: up to date at schema version 1; nothing to run\n`,
      stderr: "",
    });
  });
});

describe("sessionkit doctor (PostgreSQL)", () => {
  it("an unmigrated table is an error naming the pending migration", async () => {
    const table = unique("none");
    const result = await sessionkit(["doctor", "--json", "--store", tableUrl(table)]);
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.checks.find((c) => c.id === "schema")).toEqual({
      id: "schema",
      status: "error",
      message: `table ${schema}.${table} is not migrated (schema version 0, expected 1): a pending migration`,
      fix: "run sessionkit migrate --store <url> (sessionkit migrate --dry-run prints the SQL)",
    });
  });

  it("a migrated table on a direct connection has no problems (exit 0)", async () => {
    const table = unique("ok");
    await migratedStore(table);
    const result = await sessionkit(["doctor", "--json", "--store", tableUrl(table)]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ["store", "ok"],
      ["version", "ok"],
      ["schema", "ok"],
      ["indexes", "ok"],
      ["pooler", "ok"],
      ["clock", "ok"],
    ]);
    expect(report.checks[3]?.message).toBe(
      `indexes present: ${table}_expires_at_idx, ${table}_pkey, ${table}_user_id_idx`,
    );
  });

  it("a missing expiry index is an error", async () => {
    const table = unique("idx");
    await migratedStore(table);
    await admin.query(`DROP INDEX "${schema}"."${table}_expires_at_idx"`);
    const result = await sessionkit(["doctor", "--json", "--store", tableUrl(table)]);
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.checks.find((c) => c.id === "indexes")).toMatchObject({
      status: "error",
      message: `table ${schema}.${table} lacks the index on expires_at (gc, count): those operations scan the whole table`,
    });
  });

  it("a password in the URL is never printed", async () => {
    const table = unique("pw");
    await migratedStore(table);
    const url = new URL(tableUrl(table));
    url.password = "hunter2-pw";
    const result = await sessionkit(["doctor", "--store", url.toString()]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("sessionkit doctor: postgres://***@");
    expect(result.stdout + result.stderr).not.toContain("hunter2");
  });

  it("an unreachable server is one line on stderr and exit 2", async () => {
    const port = await freePort();
    const result = await sessionkit([
      "doctor",
      "--store",
      `postgres://postgres:pw@127.0.0.1:${port}/test`,
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `sessionkit: cannot reach postgres://***@127.0.0.1:${port}/test: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
  });

  it("a server that accepts but never answers fails within --timeout", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      const result = await sessionkit([
        "stats",
        "--timeout",
        "1000",
        "--store",
        `postgres://postgres@127.0.0.1:${port}/test`,
      ]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(
        new RegExp(
          `^sessionkit: cannot reach postgres://\\*\\*\\*@127\\.0\\.0\\.1:${port}/test: [^\\n]*(timeout|no answer within 1000 ms)[^\\n]*\\n$`,
        ),
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describe("sessionkit doctor behind PgBouncer in transaction mode", () => {
  const script = fileURLToPath(new URL("../../../scripts/pgbouncer.sh", import.meta.url));
  const run = promisify(execFile);
  let dir: string;
  let bouncerUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    dir = `/tmp/${unique("sk-cli-pgbouncer")}`;
    const database = new URL(DATABASE_URL);
    const { stdout } = await run("bash", [script, "up"], {
      env: {
        ...process.env,
        PGBOUNCER_DIR: dir,
        PGBOUNCER_PORT: String(port),
        PGBOUNCER_UPSTREAM_HOST: database.hostname,
        PGBOUNCER_UPSTREAM_PORT: database.port || "5432",
        PGBOUNCER_DATABASE: database.pathname.slice(1),
        PGBOUNCER_USER: decodeURIComponent(database.username) || "postgres",
      },
    });
    bouncerUrl = /PGBOUNCER_URL=(\S+)/.exec(stdout)?.[1] ?? "";
    expect(bouncerUrl).toBe(
      `postgres://${decodeURIComponent(database.username) || "postgres"}@127.0.0.1:${port}${database.pathname}`,
    );
  }, 60_000);

  afterAll(async () => {
    await run("bash", [script, "down"], { env: { ...process.env, PGBOUNCER_DIR: dir } });
  });

  it("detects transaction pooling the URL does not declare (exit 2, with the fix)", async () => {
    const table = unique("bouncer");
    await migratedStore(table);
    const result = await sessionkit(["doctor", "--json", "--store", tableUrl(table, bouncerUrl)]);
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.checks.find((c) => c.id === "pooler")).toEqual({
      id: "pooler",
      status: "error",
      message:
        "a pooler in transaction mode (such as PgBouncer pool_mode = transaction) is in between: two connections shared one server backend. The store's named prepared statements and gc's session-level lock break there",
      fix: "add pooler=transaction to the store URL (and set statement_timeout on the role), use session pooling, or connect to PostgreSQL directly",
    });
  });
});

describe("sessionkit stats and gc (PostgreSQL)", () => {
  it("stats counts live sessions and expired rows not yet pruned", async () => {
    const table = unique("stats");
    const store = await migratedStore(table);
    await seed(store, 2, "ann");
    await seed(store, 1);
    await insertExpired(table, 3);
    const result = await sessionkit([
      "stats",
      "--json",
      "--show-users",
      "--store",
      tableUrl(table),
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      live: 3,
      expired: 3,
      scanned: 3,
      users: 1,
      anonymous: 1,
      top: [{ user: "ann", sessions: 2 }],
      usersShown: true,
    });
  });

  it("gc without a terminal prints plain progress lines and removes every expired row", async () => {
    const table = unique("gc");
    const store = await migratedStore(table);
    await store.set(newKey(), record("live-user"), { ifVersion: 0 });
    await insertExpired(table, 2_500);
    const result = await sessionkit(["gc", "--store", tableUrl(table)]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("removed 2500 expired session(s)\n");
    const lines = result.stderr.split("\n");
    expect(lines[0]).toBe("gc: 2500 to do");
    expect(lines.at(-2)).toBe("gc: 2500/2500 done");
    expect(lines.at(-1)).toBe("");
    for (const middle of lines.slice(1, -2)) expect(middle).toMatch(/^gc: \d+\/2500$/);
    const left = await admin.query(`SELECT count(*)::int AS n FROM "${schema}"."${table}"`);
    expect(left.rows[0]?.n).toBe(1);
  });

  it("gc on a terminal draws a progress bar", async () => {
    const table = unique("gcbar");
    await migratedStore(table);
    await insertExpired(table, 1_200);
    const result = await sessionkitInTerminal(["gc", "--store", tableUrl(table)]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`\rgc [${"-".repeat(30)}]   0% 0/1200\x1b[K`);
    expect(result.stdout).toContain(`\rgc [${"#".repeat(30)}] 100% 1200/1200\x1b[K\r\n`);
    expect(result.stdout).toContain("removed 1200 expired session(s)\r\n");
    expect(result.stdout).not.toContain("gc: ");
  });
});
