import Database from "better-sqlite3";
import { Redis } from "ioredis";
import pg from "pg";

export interface RoundTrips {
  /** Commands the client sent (each one a round trip unless pipelined). */
  readonly roundTrips: number;
  /** Commands the server ran, those inside Lua scripts included. */
  readonly serverCommands: number;
}

/** Commands a subject sends, counted over a window of sequential operations. */
export interface RoundTripCounter {
  begin(): Promise<void>;
  end(): Promise<RoundTrips>;
}

export const noRoundTrips: RoundTripCounter = {
  async begin() {},
  async end() {
    return { roundTrips: 0, serverCommands: 0 };
  },
};

// --- Postgres: every query, pooled or checked out, goes through Client#query.
let pgQueries = 0;
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  pgQueries++;
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof originalQuery;

export function postgresCounter(): RoundTripCounter {
  let start = 0;
  return {
    async begin() {
      start = pgQueries;
    },
    async end() {
      const n = pgQueries - start;
      return { roundTrips: n, serverCommands: n };
    },
  };
}

// --- SQLite: statements executed (run/get/all/iterate). better-sqlite3 runs a
// transaction's BEGIN and COMMIT as prepared statements too, so they count.
let sqliteStatements = 0;
let sqlitePatched = false;

/** Patches the shared Statement prototype once, before any statement runs. */
export function patchSqlite(): void {
  if (sqlitePatched) return;
  sqlitePatched = true;
  const probe = new Database(":memory:");
  const statementProto = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<
    string,
    (...args: unknown[]) => unknown
  >;
  probe.close();
  for (const method of ["run", "get", "all", "iterate"]) {
    const original = statementProto[method] as (...args: unknown[]) => unknown;
    statementProto[method] = function counted(this: unknown, ...args: unknown[]) {
      sqliteStatements++;
      return original.apply(this, args);
    };
  }
}

export function sqliteCounter(): RoundTripCounter {
  let start = 0;
  return {
    async begin() {
      start = sqliteStatements;
    },
    async end() {
      const n = sqliteStatements - start;
      return { roundTrips: n, serverCommands: n };
    },
  };
}

// --- Redis: MONITOR on a separate connection, filtered to the subject's own
// connection (other clients may share the server). A script's commands show up
// as source "lua" right after the EVALSHA that ran them.
export function redisCounter(
  redisUrl: string,
  sendCommand: (args: string[]) => Promise<unknown>,
): RoundTripCounter {
  let monitorClient: Redis | undefined;
  let stop: (() => void) | undefined;
  let result: Promise<RoundTrips> | undefined;
  let endMarker = "";
  const marker = () => `bench-marker-${Math.random().toString(36).slice(2)}`;
  return {
    async begin() {
      const info = String(await sendCommand(["CLIENT", "INFO"]));
      const addr = /addr=(\S+)/.exec(info)?.[1];
      if (addr === undefined) throw new Error("CLIENT INFO gave no addr");
      monitorClient = new Redis(redisUrl, { lazyConnect: true });
      const monitor = await monitorClient.monitor();
      const startMarker = marker();
      endMarker = marker();
      result = new Promise((resolve) => {
        let counting = false;
        let lastWasOurs = false;
        let roundTrips = 0;
        let serverCommands = 0;
        monitor.on("monitor", (_time: string, args: string[], source: string) => {
          if (source === "lua") {
            if (counting && lastWasOurs) serverCommands++;
            return;
          }
          lastWasOurs = source === addr;
          if (!lastWasOurs) return;
          if (args[1] === startMarker) counting = true;
          else if (args[1] === endMarker) resolve({ roundTrips, serverCommands });
          else if (counting) {
            roundTrips++;
            serverCommands++;
          }
        });
      });
      stop = () => monitor.disconnect();
      await sendCommand(["ECHO", startMarker]);
    },
    async end() {
      await sendCommand(["ECHO", endMarker]);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("MONITOR never saw the end marker")), 5_000);
      });
      const counted = await Promise.race([result as Promise<RoundTrips>, timeout]).finally(() =>
        clearTimeout(timer),
      );
      stop?.();
      monitorClient?.disconnect();
      return counted;
    },
  };
}
