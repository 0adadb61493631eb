import { createStoreRegistry, ErrorCode, type StoreProvider } from "@sessionkit/core";
import { describe, expect, it } from "vitest";
import { mapStore } from "./map-store.js";

/** A provider of the in-test map store, under the `memory:` scheme. */
const memoryProvider: StoreProvider<Record<string, never>> = {
  name: "memory",
  schemes: ["memory"],
  create: () => mapStore(),
  fromUrl: () => mapStore(),
};

describe("createStoreRegistry()", () => {
  it("open(url) creates a store through the provider of the URL's scheme", async () => {
    const registry = createStoreRegistry().register(memoryProvider);
    const store = await registry.open("memory:?maxEntries=5");
    expect(store.name).toBe("map");
    await store.close?.();
  });

  it("open({ provider, options }) passes the options to create()", async () => {
    let seen: unknown;
    const provider: StoreProvider<{ flag: boolean }> = {
      name: "custom",
      schemes: ["custom"],
      create: (options) => {
        seen = options;
        return mapStore();
      },
      fromUrl: () => mapStore(),
    };
    const registry = createStoreRegistry([provider]);
    await registry.open({ provider: "custom", options: { flag: true } });
    expect(seen).toEqual({ flag: true });
    expect(registry.names()).toEqual(["custom"]);
    expect(registry.has("custom")).toBe(true);
  });

  it("register() twice for one name, or for a taken scheme, throws DUPLICATE_PROVIDER", () => {
    const registry = createStoreRegistry([memoryProvider]);
    expect(() => registry.register(memoryProvider)).toThrow(
      expect.objectContaining({ code: ErrorCode.DUPLICATE_PROVIDER }),
    );
    expect(() => registry.register({ ...memoryProvider, name: "other" })).toThrow(
      /scheme "memory:"/,
    );
  });

  it("register() of nothing or of a malformed provider throws a TypeError", () => {
    const registry = createStoreRegistry();
    expect(() => registry.register(undefined as never)).toThrow(TypeError);
    expect(() => registry.register({ ...memoryProvider, name: "Bad Name" })).toThrow(TypeError);
    expect(() => registry.register({ ...memoryProvider, schemes: ["memory:"] })).toThrow(TypeError);
  });

  it("an unknown provider lists the registered ones and says how to register (forgotten import?)", async () => {
    const registry = createStoreRegistry([memoryProvider]);
    await expect(registry.open({ provider: "redis" })).rejects.toMatchObject({
      code: ErrorCode.UNKNOWN_PROVIDER,
      message: expect.stringMatching(/registered: memory.*registry\.register/),
    });
  });

  it("an unknown URL scheme never echoes the rest of the URL (it may hold a password)", async () => {
    const registry = createStoreRegistry([memoryProvider]);
    const error = await registry
      .open("rediss://user:hunter2@cache.internal:6380/0")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.UNKNOWN_PROVIDER });
    expect(String((error as Error).message)).not.toContain("hunter2");
    expect(String((error as Error).message)).not.toContain("cache.internal");
    await expect(registry.open("no scheme here")).rejects.toMatchObject({
      code: ErrorCode.INVALID_CONFIG,
    });
  });
});
