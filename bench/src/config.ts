import { fileURLToPath } from "node:url";

/** Settings of one benchmark run, from the command line and the environment. */
export interface BenchConfig {
  readonly quick: boolean;
  /** Only run sections whose name contains one of these (e.g. `--only=core,redis`). */
  readonly only: readonly string[];
  /** Only serve HTTP apps whose name contains this (e.g. `--app="node:http + sessionkit/memory"`). */
  readonly app: string | undefined;
  /** Only run HTTP comparisons whose name contains this (e.g. `--comparison=express/redis`). */
  readonly comparison: string | undefined;
  readonly redisUrl: string;
  readonly databaseUrl: string;
  /** Sessions pre-populated in every store. */
  readonly sessions: number;
  readonly concurrencies: readonly number[];
  /** Concurrency levels of the store-level operations (the cycles always use `concurrencies`). */
  readonly storeOpConcurrencies: readonly number[];
  readonly warmupMs: number;
  readonly runs: number;
  readonly runMs: number;
  /** Most operations of one timed run, so a run ends even on a fast store. */
  readonly maxOpsPerRun: number;
  /** Sessions destroyed per timed run of `destroy` (created beforehand, untimed). */
  readonly destroyPerRun: number;
  readonly http: {
    readonly connections: number;
    /** Warm-up of every app of a comparison before its repetitions, seconds. */
    readonly warmupSeconds: number;
    /** Interleaved repetitions of every comparison (A B, then B A, …). */
    readonly repetitions: number;
    /** One timed run of one app, seconds. */
    readonly seconds: number;
    readonly routes: readonly ("read" | "write")[];
  };
  /**
   * The Node binary the load generator runs on, in a process of its own
   * (`--loadgen-node=<path>`); by default autocannon runs in the harness's
   * process, on the harness's Node.
   */
  readonly loadGeneratorNode: string | undefined;
  /**
   * The memory-store apps served in process, without sockets (section
   * `in-process`): per route, each app's warm-up and the length of one
   * measured block, ms; blocks interleave like the HTTP repetitions.
   */
  readonly inProcess: {
    readonly warmUpMs: number;
    readonly blockMs: number;
    readonly repetitions: number;
  };
  /** Where the SVG charts go (`--charts=<dir>`). */
  readonly chartsDir: string;
  readonly coreIterations: number;
}

const LOOPBACK = /^[a-z+]+:\/\/([^@/]*@)?(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/;

function loopbackUrl(name: string, value: string): string {
  if (!LOOPBACK.test(value))
    throw new Error(`${name} must point at 127.0.0.1 (the benchmark only targets loopback)`);
  return value;
}

export function readConfig(argv: readonly string[], env: NodeJS.ProcessEnv): BenchConfig {
  const quick = argv.includes("--quick");
  const onlyArg = argv.find((arg) => arg.startsWith("--only="));
  const only =
    onlyArg === undefined ? [] : onlyArg.slice("--only=".length).split(",").filter(Boolean);
  return {
    quick,
    only,
    app: argv.find((arg) => arg.startsWith("--app="))?.slice("--app=".length),
    comparison: argv.find((arg) => arg.startsWith("--comparison="))?.slice("--comparison=".length),
    redisUrl: loopbackUrl("REDIS_URL", env.REDIS_URL ?? "redis://127.0.0.1:6379"),
    databaseUrl: loopbackUrl(
      "DATABASE_URL",
      env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    ),
    sessions: quick ? 2_000 : 10_000,
    concurrencies: [1, 64],
    storeOpConcurrencies: quick ? [1] : [1, 64],
    warmupMs: quick ? 80 : 200,
    runs: quick ? 3 : 5,
    runMs: quick ? 120 : 400,
    maxOpsPerRun: quick ? 20_000 : 60_000,
    destroyPerRun: quick ? 300 : 2_000,
    http: {
      connections: 64,
      warmupSeconds: quick ? 0.5 : 1,
      repetitions: repetitions(argv),
      seconds: quick ? 0.5 : 2,
      routes: quick ? ["read"] : ["read", "write"],
    },
    loadGeneratorNode: argv
      .find((arg) => arg.startsWith("--loadgen-node="))
      ?.slice("--loadgen-node=".length),
    inProcess: {
      warmUpMs: quick ? 300 : 1_000,
      blockMs: quick ? 150 : 500,
      repetitions: repetitions(argv),
    },
    chartsDir:
      argv.find((arg) => arg.startsWith("--charts="))?.slice("--charts=".length) ??
      fileURLToPath(new URL("../charts", import.meta.url)),
    coreIterations: quick ? 20_000 : 100_000,
  };
}

function repetitions(argv: readonly string[]): number {
  const arg = argv.find((a) => a.startsWith("--reps="));
  if (arg === undefined) return 5;
  const value = Number(arg.slice("--reps=".length));
  if (!Number.isInteger(value) || value < 2) throw new Error("--reps must be an integer >= 2");
  return value;
}

export function wants(config: BenchConfig, section: string): boolean {
  return config.only.length === 0 || config.only.some((name) => section.includes(name));
}
