// Checks every publishable package the way a consumer sees it: pack it with
// pnpm (which applies publishConfig and rewrites workspace: ranges), then run
// publint and Are The Types Wrong on the tarball itself. Run after a build.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const destination = mkdtempSync(join(tmpdir(), "sessionkit-pack-"));
const packages = readdirSync(join(root, "packages"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => join(root, "packages", entry.name))
  .filter((dir) => {
    try {
      return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).private !== true;
    } catch {
      return false;
    }
  });

const run = (command, args, cwd) =>
  execFileSync(command, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });

let failures = 0;
try {
  for (const dir of packages) {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const before = new Set(readdirSync(destination));
    run("pnpm", ["pack", "--pack-destination", destination], dir);
    const tarball = readdirSync(destination).find((file) => !before.has(file));
    if (tarball === undefined) throw new Error(`pnpm pack produced nothing for ${manifest.name}`);
    const path = join(destination, tarball);
    for (const [tool, args] of [
      ["publint", ["run", path, "--strict"]],
      ["attw", [path, "--profile", "esm-only"]],
    ]) {
      try {
        run(join(root, "node_modules", ".bin", tool), args, root);
      } catch (error) {
        failures++;
        console.error(`✗ ${tool} failed for ${manifest.name}:\n${error.stdout ?? error.message}`);
      }
    }
    console.warn(`✓ checked ${manifest.name} (${tarball})`);
  }
} finally {
  rmSync(destination, { recursive: true, force: true });
}
if (failures > 0) {
  console.error(`${failures} packaging check(s) failed`);
  process.exit(1);
}
console.warn(`packaging: ${packages.length} packages passed publint and attw`);
