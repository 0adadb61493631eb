export type { Check, CheckStatus } from "./check.js";
export { ExitCode } from "./cli-error.js";
export type { DoctorReport } from "./doctor.js";
export type { GcReport } from "./gc.js";
export type { CliIo, OutputStream } from "./io.js";
export { DEFAULT_TIMEOUT_MS, runCli } from "./main.js";
export type { MigrateReport } from "./migrate.js";
export type { RevokeReport } from "./revoke.js";
export type { StatsReport, UserSessions } from "./stats.js";
