// The closing lines of `pnpm test`, over every package's vitest run, e.g.
//   651 distinct tests; the other 1701 runs are parameterised runs of them
//   tests: 2264 passed, 0 failed, 88 skipped
// Counts come from each package's JSON report (.vitest-report.json, written by
// vitest.shared.ts). A test is "distinct" by its own title: the same test run
// over several stores, apps or libraries (describe.each, shared suites) counts
// once there, and once per run in the totals.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const reports = [];
for (const parent of ["packages", "examples"]) {
  for (const name of readdirSync(join(root, parent))) {
    const file = join(root, parent, name, ".vitest-report.json");
    if (existsSync(file)) reports.push({ name: `${parent}/${name}`, file });
  }
}
if (existsSync(join(root, "bench", ".vitest-report.json"))) {
  reports.push({ name: "bench", file: join(root, "bench", ".vitest-report.json") });
}

let passed = 0;
let failed = 0;
let skipped = 0;
const titles = new Set();
for (const { name, file } of reports) {
  const report = JSON.parse(readFileSync(file, "utf8"));
  for (const result of report.testResults ?? []) {
    for (const assertion of result.assertionResults ?? []) {
      if (assertion.status === "passed") passed++;
      else if (assertion.status === "failed") failed++;
      else skipped++;
      titles.add(assertion.title);
    }
  }
  // A suite that failed to load has no assertions but counts as a failure.
  failed += (report.testResults ?? []).filter(
    (result) => result.status === "failed" && (result.assertionResults ?? []).length === 0,
  ).length;
  if ((report.numTotalTests ?? 0) === 0) console.error(`warning: ${name} ran no test`);
}
if (passed === 0) {
  console.error("no test ran");
  process.exit(1);
}
const ran = passed + failed;
process.stdout.write(
  `${titles.size} distinct tests; the other ${Math.max(0, ran + skipped - titles.size)} runs are parameterised runs of them\n` +
    `tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`,
);
process.exit(failed === 0 ? 0 : 1);
