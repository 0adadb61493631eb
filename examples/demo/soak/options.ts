// Command-line options of the soak test.

/** The stores a soak run can drive. */
export const STORE_NAMES = ["sqlite", "redis", "postgres"] as const;
export type StoreName = (typeof STORE_NAMES)[number];

export interface SoakOptions {
  /** Concurrent clients, each with its own sessions. */
  readonly clients: number;
  /** Measured run per store, in ms (warm-up not included). */
  readonly durationMs: number;
  /** Warm-up before the heap baseline, in ms. */
  readonly warmupMs: number;
  /** The fault is on from this fraction of the run… */
  readonly faultFrom: number;
  /** …to this one. */
  readonly faultTo: number;
  /** Cart adds per session before the client starts a new one (the demo caps a cart at 20 lines). */
  readonly itemsPerSession: number;
  /** Heap growth allowed between baseline and after the run, in MB. */
  readonly heapLimitMb: number;
  readonly stores: readonly StoreName[];
  readonly redisUrl: string;
  readonly databaseUrl: string;
}

const USAGE = `usage: soak [--quick] [--clients N] [--duration SECONDS] [--stores sqlite,redis,postgres]
  --quick            8 s per store instead of 20 s
  --clients N        concurrent clients (default 50)
  --duration S       seconds per store (default 20, or 8 with --quick)
  --stores LIST      comma-separated subset of sqlite,redis,postgres (default all)
environment: REDIS_URL (default redis://127.0.0.1:6379),
             DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); both must point at 127.0.0.1`;

/** Parses `argv` (without node and the script) and the environment; throws with the usage on bad input. */
export function parseOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): SoakOptions {
  const values = new Map<string, string>();
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--quick") {
      quick = true;
      continue;
    }
    if (arg === "--help" || arg === "-h") throw new Error(USAGE);
    const match = /^--(clients|duration|stores)(?:=(.*))?$/.exec(arg);
    if (match === null) throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${match[1]} needs a value\n${USAGE}`);
    values.set(match[1] as string, value);
  }

  const clients = integer(values.get("clients") ?? "50", "--clients", 1, 500);
  const seconds = integer(values.get("duration") ?? (quick ? "8" : "20"), "--duration", 4, 600);
  const stores = (values.get("stores") ?? STORE_NAMES.join(",")).split(",").map((name) => {
    const store = STORE_NAMES.find((candidate) => candidate === name.trim());
    if (store === undefined) throw new Error(`unknown store ${JSON.stringify(name)}\n${USAGE}`);
    return store;
  });

  return {
    clients,
    durationMs: seconds * 1_000,
    warmupMs: 1_500,
    faultFrom: 0.35,
    faultTo: 0.6,
    itemsPerSession: 20,
    heapLimitMb: 20,
    stores,
    redisUrl: localOnly(env.REDIS_URL || "redis://127.0.0.1:6379", "REDIS_URL"),
    databaseUrl: localOnly(
      env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test",
      "DATABASE_URL",
    ),
  };
}

function integer(text: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}\n${USAGE}`);
  }
  return Number(text);
}

/** The soak test only ever talks to this machine: a URL for another host is refused. */
function localOnly(url: string, name: string): string {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new Error(`${name} is not a valid URL (its value is not shown)`);
  }
  if (host !== "127.0.0.1" && host !== "localhost") {
    throw new Error(
      `${name} must point at 127.0.0.1: the soak test only runs against local servers`,
    );
  }
  return url;
}
