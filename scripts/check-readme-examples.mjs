// README examples must be real, type-checked code. A fenced block right after
// a `<!-- file: <path> -->` comment (relative to the README) must equal that
// file byte for byte; those files live in test/ folders, so `pnpm typecheck`
// checks them, the tests run them, and the newcomer test
// (scripts/newcomer/run.mjs) runs the README text itself from the packed
// packages. `--write` copies each file into its README block.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import {
  EXAMPLE,
  hasLegacyMarker,
  listReadmes,
  readmeExamples,
} from "./newcomer/readme-examples.mjs";

const root = new URL("..", import.meta.url).pathname;
const write = process.argv.includes("--write");
let checked = 0;
const problems = [];
for (const readme of listReadmes(root)) {
  if (hasLegacyMarker(readme)) {
    problems.push(
      `${relative(root, readme)}: a block starts with "// file:"; put <!-- file: … --> on the line before the block instead`,
    );
  }
  if (write) {
    const text = readFileSync(readme, "utf8");
    const updated = text.replace(EXAMPLE, (block, file) => {
      const path = join(dirname(readme), file);
      return existsSync(path)
        ? `<!-- file: ${file} -->\n\`\`\`ts\n${readFileSync(path, "utf8")}\`\`\``
        : block;
    });
    if (updated !== text) writeFileSync(readme, updated);
  }
  for (const { file, path, body } of readmeExamples(root, readme)) {
    const where = `${relative(root, readme)} → ${file}`;
    if (!existsSync(path)) {
      problems.push(`${where}: the file does not exist`);
      continue;
    }
    if (readFileSync(path, "utf8") !== body) {
      problems.push(`${where}: the README block differs from the file (run with --write)`);
    }
    checked++;
  }
}
if (problems.length > 0) {
  console.error(`README examples out of date:\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
console.warn(`README examples: ${checked} blocks match their type-checked files`);
