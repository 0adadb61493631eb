import type { RoundTripCounter } from "./counters.js";
import type { Operation, OperationName } from "./workload.js";

export type Backend = "memory" | "sqlite" | "redis" | "postgres";
export type SubjectKind = "sessionkit" | "peer" | "raw";

/** The Redis client library a sessionkit Redis store is given. */
export type RedisClientKind = "ioredis" | "node-redis";

/** What names and labels of sessionkit on node-redis carry after "sessionkit/<store>"; nothing for ioredis. */
export const clientSuffix = (client: RedisClientKind | undefined): string =>
  client === "node-redis" ? " (node-redis)" : "";

/** What names and labels of a calibration app carry: ` + 10 µs of work`; nothing for other apps. */
export const workSuffix = (workMicros: number | undefined): string =>
  workMicros === undefined ? "" : ` + ${workMicros} µs of work`;

/**
 * The Redis client library a peer runs on, which sessionkit is measured on
 * against it: connect-redis 9 on node-redis, connect-redis 8 on ioredis.
 */
export const peerClient = (peer: string): RedisClientKind =>
  peer === "connect-redis@9" ? "node-redis" : "ioredis";

/** Something measured: sessionkit on a store, a peer store, or a raw client as the limit. */
export interface Subject {
  readonly name: string;
  readonly backend: Backend;
  readonly kind: SubjectKind;
  readonly counter: RoundTripCounter;
  /** Pre-populates `count` sessions, untimed. */
  populate(count: number): Promise<void>;
  readonly ops: Readonly<Record<OperationName, Operation>>;
  /** Removes everything the subject stored and closes what it opened. */
  close(): Promise<void>;
}

export const SECRET = "bench-secret-7f3a9c1e5b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a";
export const IDLE_MS = 30 * 60_000;
