import { readFileSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
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
      nproc: availableParallelism(),
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
