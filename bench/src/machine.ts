import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import type { BenchConfig } from "./config.js";

/** The machine and server versions, for the report. */
export async function machineInfo(config: BenchConfig): Promise<Record<string, unknown>> {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const redis = new Redis(config.redisUrl);
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
  try {
    const info = await redis.info("server");
    const pgVersion = await pool.query<{ server_version: string }>("SHOW server_version");
    return {
      // The machine's cores, not this process's share: the harness pins itself to some of them.
      nproc: cpus().length,
      cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? "unknown",
      ramGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      redis: /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown",
      postgres: pgVersion.rows[0]?.server_version ?? "unknown",
      loadAverage: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
    };
  } finally {
    redis.disconnect();
    await pool.end();
  }
}

/** The @sessionkit packages the benchmark loads. */
const MEASURED_PACKAGES = [
  "core",
  "store-memory",
  "store-sqlite",
  "store-redis",
  "store-postgres",
  "express",
  "fastify",
  "opentelemetry",
] as const;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * What the benchmark measures: the built `dist` of the @sessionkit packages
 * (what users run; Node resolves it without the `dev-source` condition) or
 * their TypeScript sources (`--conditions=dev-source`). For `dist`, lists the
 * packages whose sources changed after their last build.
 */
export function measuredCode(): { measured: "dist" | "source"; staleDist: string[] } {
  const resolved = import.meta.resolve("@sessionkit/core");
  if (!resolved.includes("/dist/")) return { measured: "source", staleDist: [] };
  const staleDist: string[] = [];
  for (const name of MEASURED_PACKAGES) {
    let entry: string;
    try {
      entry = fileURLToPath(import.meta.resolve(`@sessionkit/${name}`));
    } catch {
      staleDist.push(`@sessionkit/${name} (not built)`);
      continue;
    }
    const root = dirname(dirname(entry));
    const buildInfo = join(root, "dist", ".tsbuildinfo");
    const built = existsSync(buildInfo) ? statSync(buildInfo).mtimeMs : 0;
    if (newestMtime(join(root, "src")) > built) staleDist.push(`@sessionkit/${name}`);
  }
  return { measured: "dist", staleDist };
}
