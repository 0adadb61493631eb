// README examples must be real, type-checked code. A fenced block whose first
// line is `// file: <path>` (relative to the README) must equal that file
// byte for byte after the marker line; those files live in test/ folders, so
// `pnpm typecheck` checks them and the tests run them.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const readmes = [join(root, "README.md")];
for (const group of ["packages", "examples"]) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const readme = join(dir, entry.name, "README.md");
    if (entry.isDirectory() && existsSync(readme)) readmes.push(readme);
  }
}

const BLOCK = /```(?:ts|typescript)\n\/\/ file: (\S+)\n([\s\S]*?)```/g;
let checked = 0;
const problems = [];
for (const readme of readmes) {
  const text = readFileSync(readme, "utf8");
  for (const match of text.matchAll(BLOCK)) {
    const [, file, body] = match;
    const path = join(dirname(readme), file);
    const where = `${relative(root, readme)} → ${file}`;
    if (!existsSync(path)) {
      problems.push(`${where}: the file does not exist`);
      continue;
    }
    const source = readFileSync(path, "utf8");
    if (source !== body) problems.push(`${where}: the README block differs from the file`);
    checked++;
  }
}
if (problems.length > 0) {
  console.error(`README examples out of date:\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
console.warn(`README examples: ${checked} blocks match their type-checked files`);
