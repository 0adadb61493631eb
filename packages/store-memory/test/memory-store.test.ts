import { spawnSync } from "node:child_process";
import { makeRecord, randomKey } from "@sessionkit/conformance";
import { createMemoryStore, memoryProvider } from "@sessionkit/store-memory";
import { describe, expect, it } from "vitest";

describe("createMemoryStore() (A34)", () => {
  it("holds at most maxEntries, dropping the least recently used", async () => {
    const store = createMemoryStore({ maxEntries: 3, sweepIntervalMs: false });
    const [a, b, c, d] = [randomKey(), randomKey(), randomKey(), randomKey()];
    for (const key of [a, b, c]) await store.set(key as string, makeRecord(), { ifVersion: 0 });
    await store.get(a as string);
    await store.set(d as string, makeRecord(), { ifVersion: 0 });
    expect(await store.count()).toBe(3);
    expect(await store.get(b as string)).toBeNull();
    expect(await store.get(a as string)).not.toBeNull();
  });

  it("deletes expired records on read, so a clock going back revives nothing (A20)", async () => {
    let now = 1_000_000;
    const store = createMemoryStore({ sweepIntervalMs: false, now: () => now });
    const key = randomKey();
    await store.set(key, makeRecord({ createdAt: now, expiresAt: now + 100 }), { ifVersion: 0 });
    now += 200;
    expect(await store.get(key)).toBeNull();
    now -= 200;
    expect(await store.get(key)).toBeNull();
  });

  it("the sweep timer never keeps the process alive", () => {
    const script = `
      import { createMemoryStore } from "@sessionkit/store-memory";
      createMemoryStore({ sweepIntervalMs: 10 });
      console.log("started");
    `;
    const child = spawnSync(
      process.execPath,
      ["--conditions=dev-source", "--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: new URL("..", import.meta.url).pathname,
        timeout: 15_000,
        encoding: "utf8",
      },
    );
    expect(child.stdout.trim()).toBe("started");
    expect(child.status).toBe(0);
  });

  it("rejects bad options with a TypeError", () => {
    expect(() => createMemoryStore({ maxEntries: 0 })).toThrow(TypeError);
    expect(() => createMemoryStore({ sweepIntervalMs: -1 })).toThrow(TypeError);
  });

  it("memoryProvider opens memory: URLs with options", async () => {
    const store = await memoryProvider.fromUrl("memory:?maxEntries=1&sweepIntervalMs=false");
    await store.set(randomKey(), makeRecord(), { ifVersion: 0 });
    await store.set(randomKey(), makeRecord(), { ifVersion: 0 });
    expect(await store.count?.()).toBe(1);
  });
});
