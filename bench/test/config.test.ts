import { describe, expect, it } from "vitest";
import { readConfig } from "../src/config.js";

describe("readConfig", () => {
  it("reads --app and --comparison as substrings to filter the HTTP apps and comparisons by", () => {
    const config = readConfig(
      ["--only=http", "--app=node-redis", "--comparison=express/redis"],
      {},
    );
    expect(config.only).toEqual(["http"]);
    expect(config.app).toBe("node-redis");
    expect(config.comparison).toBe("express/redis");
  });

  it("filters nothing by default", () => {
    const config = readConfig([], {});
    expect(config.app).toBeUndefined();
    expect(config.comparison).toBeUndefined();
  });

  it("runs the load generator in this process unless --loadgen-node names a Node binary", () => {
    expect(readConfig([], {}).loadGeneratorNode).toBeUndefined();
    expect(readConfig(["--loadgen-node=/opt/node24/bin/node"], {}).loadGeneratorNode).toBe(
      "/opt/node24/bin/node",
    );
  });

  it("sizes the in-process blocks by mode and interleaves them like the HTTP repetitions", () => {
    expect(readConfig([], {}).inProcess).toEqual({ warmUpMs: 1_000, blockMs: 500, repetitions: 5 });
    expect(readConfig(["--quick", "--reps=3"], {}).inProcess).toEqual({
      warmUpMs: 300,
      blockMs: 150,
      repetitions: 3,
    });
  });

  it("refuses a service URL that is not on loopback", () => {
    expect(() => readConfig([], { REDIS_URL: "redis://10.0.0.1:6379" })).toThrow(/127\.0\.0\.1/);
  });
});
