import { describe, expect, it } from "vitest";
import { sessionkit } from "./cli.js";

describe("sessionkit (arguments and errors)", () => {
  it("prints the usage and exits 2 without a command", async () => {
    const result = await sessionkit([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/^Usage: sessionkit <command> \[options\]\n/);
    expect(result.stderr).toBe("");
  });

  it("--help prints the usage and exits 0", async () => {
    const result = await sessionkit(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("  revoke --user ID       revoke every session of one user\n");
  });

  it("an unknown command is one line on stderr and exit 2", async () => {
    const result = await sessionkit(["frobnicate", "--store", "memory:"]);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: 'sessionkit: unknown command "frobnicate" (sessionkit --help lists them)\n',
    });
  });

  it("an unknown option is one line on stderr and exit 2", async () => {
    const result = await sessionkit(["stats", "--store", "memory:", "--frob"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^sessionkit: Unknown option '--frob'\.[^\n]*\n$/);
  });

  it("without --store or SESSION_STORE_URL it says how to name a store", async () => {
    const result = await sessionkit(["stats"]);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: "sessionkit: no store: pass --store URL or set SESSION_STORE_URL\n",
    });
  });

  it("reads the store URL from SESSION_STORE_URL", async () => {
    const result = await sessionkit(["stats", "--json"], {
      env: { SESSION_STORE_URL: "memory:" },
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      store: "memory:",
      live: 0,
      expired: null,
      scanned: 0,
      users: 0,
      anonymous: 0,
      top: [],
      usersShown: false,
    });
  });

  it("an unknown URL scheme is one line naming only the scheme, and --json adds an error document", async () => {
    const result = await sessionkit([
      "doctor",
      "--json",
      "--store",
      "mongodb://admin:hunter2@db/x",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'sessionkit: cannot open mongodb://***@db/x: no session store provider for URL scheme "mongodb:" (registered: redis, postgres, sqlite, memory). Forgotten registration? Import the store package and call registry.register(provider), e.g. registry.register(redisProvider) from @sessionkit/store-redis.\n',
    );
    expect(JSON.parse(result.stdout)).toEqual({
      error: {
        code: "UNKNOWN_PROVIDER",
        message: result.stderr.slice("sessionkit: ".length, -1),
      },
    });
    expect(result.stdout + result.stderr).not.toContain("hunter2");
  });

  it("a malformed store URL is one line and exit 2", async () => {
    const result = await sessionkit(["stats", "--store", "redis://user:pw@"]);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: "sessionkit: cannot open redis://***@: redis: invalid store URL (no host)\n",
    });
  });

  it("--timeout must be a positive integer", async () => {
    const result = await sessionkit(["stats", "--store", "memory:", "--timeout", "soon"]);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: "sessionkit: --timeout must be an integer of at least 1\n",
    });
  });

  it("doctor on memory: explains that a CLI sees its own empty store (exit 0)", async () => {
    const result = await sessionkit(["doctor", "--store", "memory:"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        "sessionkit doctor: memory:",
        "  info     store         memory: is a store inside one process: the CLI would see an empty store of its own. Point --store at the URL of a shared store",
        "no problems found",
        "",
      ].join("\n"),
    );
  });

  it("migrate and gc on memory: have nothing to do", async () => {
    const migrate = await sessionkit(["migrate", "--store", "memory:"]);
    expect(migrate).toEqual({
      code: 0,
      stdout: "the memory store has no schema: nothing to migrate\n",
      stderr: "",
    });
  });

  it("revoke needs exactly one of --user and --all", async () => {
    const result = await sessionkit(["revoke", "--store", "memory:", "--all", "--user", "x"]);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: "sessionkit: revoke needs exactly one of --user ID and --all\n",
    });
  });
});
