#!/usr/bin/env node
// `pnpm test:containers [version…]`: the store conformance suite, the failure
// group (fault proxy) and the cross-process scenarios of store-redis and
// store-postgres, against each supported server version in a container, then
// one summary line per version. Any failure, or a container of ours left
// running, exits non-zero with a message; a version is never skipped.
//
// Images come from SESSIONKIT_IMAGE_REDIS_7_0, SESSIONKIT_IMAGE_REDIS_8_0,
// SESSIONKIT_IMAGE_VALKEY_8_1, SESSIONKIT_IMAGE_POSTGRES_15 and
// SESSIONKIT_IMAGE_POSTGRES_17, defaulting to the official images; offline,
// `eval "$(bash scripts/test-images.sh)"` builds local ones and sets them.
// Arguments pick versions by id (e.g. `redis-8.0 postgres-17`); none = all.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("..", import.meta.url));
const config = join(repo, "scripts", "vitest.containers.config.ts");
const LABEL = "org.sessionkit.test";

/** The server versions the stores support, each with its image variable and official image. */
const VERSIONS = [
  {
    id: "redis-7.0",
    name: "Redis 7.0",
    kind: "redis",
    env: "SESSIONKIT_IMAGE_REDIS_7_0",
    image: "redis:7.0",
  },
  {
    id: "redis-8.0",
    name: "Redis 8.0",
    kind: "redis",
    env: "SESSIONKIT_IMAGE_REDIS_8_0",
    image: "redis:8.0",
  },
  {
    id: "valkey-8.1",
    name: "Valkey 8.1",
    kind: "redis",
    env: "SESSIONKIT_IMAGE_VALKEY_8_1",
    image: "valkey/valkey:8.1",
  },
  {
    id: "postgres-15",
    name: "PostgreSQL 15",
    kind: "postgres",
    env: "SESSIONKIT_IMAGE_POSTGRES_15",
    image: "postgres:15",
  },
  {
    id: "postgres-17",
    name: "PostgreSQL 17",
    kind: "postgres",
    env: "SESSIONKIT_IMAGE_POSTGRES_17",
    image: "postgres:17",
  },
];

/** What runs against each kind of server: one vitest run (one container) per entry. */
const RUNS = {
  redis: [
    { dir: "packages/conformance", files: ["test/global-setup.containers.ts"] },
    {
      dir: "packages/store-redis",
      files: ["test/conformance.test.ts", "test/failure-group.test.ts"],
    },
    {
      dir: "packages/adapter-scenarios",
      files: ["test/cross-process.test.ts"],
      names: "two processes sharing redis",
    },
  ],
  postgres: [
    { dir: "packages/conformance", files: ["test/global-setup.containers.ts"] },
    {
      dir: "packages/store-postgres",
      files: ["test/conformance.test.ts", "test/failure-group.test.ts"],
    },
    {
      dir: "packages/adapter-scenarios",
      files: ["test/cross-process.test.ts"],
      names: "two processes sharing postgres",
    },
  ],
};

const IMAGE_VAR = {
  redis: "SESSIONKIT_TEST_REDIS_IMAGE",
  postgres: "SESSIONKIT_TEST_POSTGRES_IMAGE",
};

function fail(message) {
  console.error(`test:containers: ${message}`);
  process.exit(1);
}

/** IDs of containers carrying our label, running or not. */
function ourContainers() {
  const result = spawnSync("docker", ["ps", "-aq", "--filter", `label=${LABEL}`], {
    encoding: "utf8",
  });
  if (result.status !== 0) fail(`docker ps failed: ${result.stderr || result.error?.message}`);
  return result.stdout.split("\n").filter(Boolean);
}

function removeContainers(ids) {
  if (ids.length > 0) spawnSync("docker", ["rm", "-f", ...ids], { stdio: "ignore" });
}

/**
 * Runs vitest once; resolves with its exit code and the counts from its JSON
 * report, which the shared vitest settings write to the package's
 * `.vitest-report.json` (removed first, so a report of an earlier run never counts).
 */
function runVitest(run, kind, image) {
  const report = join(repo, run.dir, ".vitest-report.json");
  rmSync(report, { force: true });
  const args = ["exec", "vitest", "run", "--config", config, ...run.files];
  if (run.names) args.push("--testNamePattern", run.names);
  const env = { ...process.env, [IMAGE_VAR[kind]]: image, CI: process.env.CI ?? "true" };
  // Only the container: never fall back to natively configured servers.
  for (const name of ["REDIS_URL", "DATABASE_URL", ...Object.values(IMAGE_VAR)]) {
    if (name !== IMAGE_VAR[kind]) delete env[name];
  }
  return new Promise((resolve) => {
    const child = spawn("pnpm", args, { cwd: join(repo, run.dir), env, stdio: "inherit" });
    child.once("exit", (code, signal) => {
      const counts = { passed: 0, failed: 0, skipped: 0 };
      let reported = false;
      try {
        const json = JSON.parse(readFileSync(report, "utf8"));
        reported = true;
        for (const file of json.testResults) {
          for (const test of file.assertionResults) {
            // A test filtered out by --testNamePattern is not part of this run.
            if (run.names && !test.fullName.includes(run.names)) continue;
            if (test.status === "passed") counts.passed += 1;
            else if (test.status === "failed") counts.failed += 1;
            else counts.skipped += 1;
          }
        }
      } catch {
        // No report: vitest failed before running tests (e.g. the container did not start).
      }
      rmSync(report, { force: true });
      resolve({ code: code ?? (signal ? 1 : 0), counts, reported });
    });
  });
}

const wanted = process.argv.slice(2);
for (const id of wanted) {
  if (!VERSIONS.some((v) => v.id === id)) {
    fail(`unknown version "${id}"; known: ${VERSIONS.map((v) => v.id).join(", ")}`);
  }
}
const versions = wanted.length === 0 ? VERSIONS : VERSIONS.filter((v) => wanted.includes(v.id));

if (spawnSync("docker", ["info"], { stdio: "ignore" }).status !== 0) {
  fail(
    "no Docker engine answers (docker info failed). Start one; where no registry is reachable, " +
      'build the images first: eval "$(bash scripts/test-images.sh)"',
  );
}
const before = ourContainers();
if (before.length > 0) {
  fail(
    `${before.length} container(s) labelled ${LABEL} are already there; remove them first (docker rm -f)`,
  );
}

const rows = [];
for (const version of versions) {
  const image = process.env[version.env] || version.image;
  process.stdout.write(`\n==> ${version.name}: ${image} (${version.env})\n`);
  const started = performance.now();
  const row = { version, image, passed: 0, failed: 0, skipped: 0, problems: [] };
  for (const run of RUNS[version.kind]) {
    const { code, counts, reported } = await runVitest(run, version.kind, image);
    row.passed += counts.passed;
    row.failed += counts.failed;
    row.skipped += counts.skipped;
    const total = counts.passed + counts.failed + counts.skipped;
    if (!reported || total === 0) {
      row.problems.push(`${run.dir}: vitest exited ${code} without running any test (error above)`);
    } else if (code !== 0) row.problems.push(`${run.dir}: vitest exited ${code}`);
    else if (counts.passed === 0) row.problems.push(`${run.dir}: no test passed`);
    const left = ourContainers();
    if (left.length > 0) {
      row.problems.push(
        `${run.dir}: ${left.length} container(s) left running after the run (removed)`,
      );
      removeContainers(left);
    }
  }
  row.seconds = (performance.now() - started) / 1000;
  rows.push(row);
}

const header = ["server", "image", "passed", "failed", "skipped", "time"];
const lines = rows.map((r) => [
  r.version.name,
  r.image,
  String(r.passed),
  String(r.failed),
  String(r.skipped),
  `${r.seconds.toFixed(1)} s`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const format = (cells) =>
  cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
process.stdout.write(`\ntest:containers summary\n${format(header)}\n`);
for (const line of lines) process.stdout.write(`${format(line)}\n`);

const failedRows = rows.filter((r) => r.failed > 0 || r.problems.length > 0);
if (failedRows.length > 0) {
  for (const r of failedRows) {
    const why = [...(r.failed > 0 ? [`${r.failed} test(s) failed`] : []), ...r.problems];
    console.error(`FAILED ${r.version.name} (${r.image}): ${why.join("; ")}`);
  }
  process.exit(1);
}
process.stdout.write(`all ${rows.length} server version(s) passed\n`);
