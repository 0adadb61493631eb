// Finds the README examples: a fenced TypeScript block right after a
// `<!-- file: <path> -->` comment (the path relative to the README, invisible
// on the rendered page). The block must equal that file byte for byte; the
// files live in test/ folders, so `pnpm typecheck` checks them, the packages'
// tests run them from source, and the newcomer test runs the README text
// itself from the packed tarballs.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/** A marked README example: group 1 is the file path, group 2 the block's text. */
export const EXAMPLE = /<!-- file: (\S+) -->\n```(?:ts|typescript)\n([\s\S]*?)```/g;
const LEGACY = /```(?:ts|typescript)\n\/\/ file: /;
const SHELL = /```sh\n([\s\S]*?)```/g;

/** Every README.md of the repository: the root, packages/* and examples/*. */
export function listReadmes(root) {
  const readmes = [join(root, "README.md")];
  for (const group of ["packages", "examples"]) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const readme = join(dir, entry.name, "README.md");
      if (entry.isDirectory() && existsSync(readme)) readmes.push(readme);
    }
  }
  return readmes;
}

/**
 * @returns {{ readme: string, file: string, path: string, body: string }[]} every
 *   marked example, `readme` relative to the root, `path` absolute.
 */
export function readmeExamples(root, readme) {
  const text = readFileSync(readme, "utf8");
  return [...text.matchAll(EXAMPLE)].map(([, file, body]) => ({
    readme: relative(root, readme),
    file,
    path: join(dirname(readme), file),
    body,
  }));
}

/** Unmarked legacy blocks (`// file:` as the block's first line): an error. */
export function hasLegacyMarker(readme) {
  return LEGACY.test(readFileSync(readme, "utf8"));
}

/**
 * The packages of a README's `npm install` lines.
 * @returns {{ dependencies: string[], devDependencies: string[] }}
 */
export function installLines(readme) {
  const dependencies = [];
  const devDependencies = [];
  for (const [, block] of readFileSync(readme, "utf8").matchAll(SHELL)) {
    for (const line of block.split("\n").filter((text) => text.startsWith("npm install "))) {
      const words = line.replace(/#.*$/, "").trim().split(/\s+/).slice(2);
      const dev = words.includes("--save-dev") || words.includes("-D");
      const names = words.filter((word) => !word.startsWith("-"));
      (dev ? devDependencies : dependencies).push(...names);
    }
  }
  return { dependencies, devDependencies };
}
