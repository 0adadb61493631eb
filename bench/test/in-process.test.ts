import { describe, expect, it } from "vitest";
import type { ServiceNames } from "../src/backends.js";
import { type AppSpec, buildApp } from "../src/http-apps.js";
import {
  type InProcessResult,
  inProcessClient,
  inProcessComparisons,
  measureInProcess,
} from "../src/in-process.js";
import { inProcessRows } from "../src/report.js";
import { forkFromSources } from "./fixtures/fork-from-sources.js";

/** Memory-store apps need no service; the names are never used. */
const names: ServiceNames = {
  runId: "in-process-test",
  redisUrl: "redis://127.0.0.1:6379",
  databaseUrl: "postgres://postgres@127.0.0.1:5432/postgres",
  schema: "unused",
  sqliteDir: "/nonexistent",
};

const memoryApps: AppSpec[] = [
  { framework: "node:http", sessions: "sessionkit", store: "memory" },
  { framework: "node:http", sessions: "floor", store: "memory" },
  { framework: "express", sessions: "sessionkit", store: "memory" },
  { framework: "express", sessions: "express-session", store: "none", peer: "memory" },
  { framework: "fastify", sessions: "sessionkit", store: "memory" },
  { framework: "fastify", sessions: "@fastify/session", store: "none", peer: "memory" },
];

describe("inProcessClient", () => {
  it.each(memoryApps)(
    "serves $framework + $sessions without a socket, sessions and all",
    async (spec) => {
      const app = await buildApp(spec, names);
      try {
        const client = inProcessClient(app.listener);
        const login = await client.request("POST", "/login");
        expect(login.status).toBe(200);
        expect(login.cookie).toMatch(/^[\w.-]+=\S+$/);
        // The signed-in session loads: its two roles, where a request without it has none.
        expect((await client.request("GET", "/read", login.cookie)).body).toBe(
          '{"ok":true,"roles":2}',
        );
        expect((await client.request("GET", "/read")).body).toBe('{"ok":true,"roles":0}');
        // A thrown-away response still runs the whole request: its write is kept.
        await client.send("POST", "/write", login.cookie);
        const write = await client.request("POST", "/write", login.cookie);
        expect(write.status).toBe(200);
        expect(write.body).toBe('{"ok":true,"roles":2}');
        expect((await client.request("GET", "/nowhere")).status).toBe(404);
      } finally {
        await app.close();
      }
    },
  );
});

describe("inProcessComparisons", () => {
  it("measures the memory comparisons of every framework, without the calibration apps", () => {
    const chosen = inProcessComparisons();
    expect(chosen.map((c) => c.name)).toEqual([
      "node:http/memory",
      "express/memory",
      "fastify/memory",
    ]);
    for (const { apps } of chosen) {
      expect(apps.some((spec) => spec.workMicros !== undefined)).toBe(false);
      expect(apps.some((spec) => spec.sessions === "sessionkit")).toBe(true);
      expect(apps.some((spec) => spec.ceiling === "async")).toBe(true);
    }
  });
});

const result = (app: string, repetitions: number[], bytes: number): InProcessResult => ({
  type: "in-process",
  comparison: "express/memory",
  app,
  route: "read",
  requests: 100,
  cpuMicrosPerRequest: 0,
  cpuMicrosPerRequestMin: 0,
  cpuMicrosPerRequestMax: 0,
  repetitions,
  referenceNanosPerIteration: 350,
  bytesPerRequest: bytes,
  bytesPerRequestMin: bytes - 10,
  bytesPerRequestMax: bytes + 10,
});

describe("inProcessRows", () => {
  it("pairs each block with the ceiling's and sessionkit's blocks of the same repetition", () => {
    const rows = inProcessRows([
      result("express + sessionkit/memory", [130, 150, 140], 31_000),
      result("express + express-session/memory", [190, 230, 170], 42_000),
      result("express + no session, one await", [100, 110, 120], 22_500),
      result("express + no session", [95, 105, 115], 22_000),
    ]);
    const [sessionkit, peer, ceiling, sync] = rows;
    expect(sessionkit?.overCeiling).toEqual({ median: 30, min: 20, max: 40 });
    expect(sessionkit?.peerOverSessionkit).toBeUndefined();
    expect(peer?.overCeiling).toEqual({ median: 90, min: 50, max: 120 });
    // (190-100)/(130-100), (230-110)/(150-110), (170-120)/(140-120)
    expect(peer?.peerOverSessionkit).toEqual({ median: 3, min: 2.5, max: 3 });
    expect(ceiling?.overCeiling).toBeUndefined();
    expect(sync?.overCeiling).toBeUndefined();
    expect(sync?.peerOverSessionkit).toBeUndefined();
    // Allocation over the one-await ceiling's, medians against medians.
    expect(sessionkit?.bytesOverCeiling).toBe(8_500);
    expect(peer?.bytesOverCeiling).toBe(19_500);
    expect(ceiling?.bytesOverCeiling).toBeUndefined();
    expect(sync?.bytesOverCeiling).toBeUndefined();
  });
});

describe("measureInProcess", () => {
  it("measures every app of a comparison per route, in interleaved blocks", async () => {
    const phases: string[] = [];
    const results = await measureInProcess(
      names,
      { warmUpMs: 100, blockMs: 20, repetitions: 2 },
      (name) => name === "node:http/memory",
      (_position, detail) => phases.push(detail),
      forkFromSources,
    );
    expect(results.map((r) => `${r.app} ${r.route}`)).toEqual([
      "node:http + sessionkit/memory read",
      "node:http + hand-written floor/memory read",
      "node:http + no session read",
      "node:http + no session, one await read",
      "node:http + sessionkit/memory write",
      "node:http + hand-written floor/memory write",
      "node:http + no session write",
      "node:http + no session, one await write",
    ]);
    for (const r of results) {
      expect(r.repetitions).toHaveLength(2);
      // Sized from the warm-up (at least 100 requests in 100 ms, so at least 20 per
      // 20 ms block), never the floor of 10 that only a warm-up of under 50 requests gets.
      expect(r.requests).toBeGreaterThan(10);
      expect(r.cpuMicrosPerRequest).toBeGreaterThan(0);
      expect(r.referenceNanosPerIteration).toBeGreaterThan(0);
      // Every request allocates its request and response objects at least.
      expect(r.bytesPerRequestMin).toBeGreaterThan(1000);
      expect(r.bytesPerRequestMin).toBeLessThanOrEqual(r.bytesPerRequest);
      expect(r.bytesPerRequest).toBeLessThanOrEqual(r.bytesPerRequestMax);
    }
    // A session's load and commit allocate kilobytes more than the ceiling
    // (the core cycle alone about 4 KB, BENCHMARKS.md finding 45).
    const bytesOf = (app: string, route: string) =>
      results.find((r) => r.app === app && r.route === route)?.bytesPerRequest ?? Number.NaN;
    for (const route of ["read", "write"]) {
      expect(
        bytesOf("node:http + sessionkit/memory", route) -
          bytesOf("node:http + no session, one await", route),
      ).toBeGreaterThan(3000);
    }
    // Repetition 2 runs the apps in reverse order.
    const reads = phases.filter((p) => p.startsWith("node:http/memory read · rep"));
    expect(reads[0]).toContain("rep 1/2 · node:http + sessionkit/memory");
    expect(reads[4]).toContain("rep 2/2 · node:http + no session, one await");
  }, 60_000);
});
