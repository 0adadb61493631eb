import { CAPABILITY_NAMES, type StoreCapabilities } from "@sessionkit/core/store";
import { describe, it } from "vitest";
import { expect, useStore } from "../harness.js";
import type { ConformanceGroup } from "../options.js";

/** The methods each capability promises. */
const METHODS: Record<keyof StoreCapabilities, readonly string[]> = {
  touch: ["touch"],
  rename: ["rename"],
  userIndex: ["listByUser", "destroyByUser"],
  count: ["count"],
  clear: ["clear"],
  keys: ["keys"],
  gc: ["gc"],
  close: ["close"],
};

/**
 * The `manifest` group: `capabilities` is frozen, complete, and matches the
 * methods present.
 */
export const manifestGroup: ConformanceGroup = (options) => {
  describe("manifest", () => {
    const { store } = useStore(options);

    it("capabilities is a frozen object with a boolean for every capability", () => {
      const caps = store().capabilities;
      expect(Object.isFrozen(caps)).toBe(true);
      for (const name of CAPABILITY_NAMES) expect(typeof caps[name]).toBe("boolean");
      expect(typeof store().name).toBe("string");
      expect(store().name.length).toBeGreaterThan(0);
    });

    it("every declared capability has its method, and every method its capability", () => {
      const s = store() as unknown as Record<string, unknown>;
      for (const name of CAPABILITY_NAMES) {
        for (const method of METHODS[name]) {
          expect(
            typeof s[method] === "function",
            `capability "${name}" is ${store().capabilities[name]} but method ${method}() is ${typeof s[method]}`,
          ).toBe(store().capabilities[name]);
        }
      }
      for (const method of ["get", "set", "destroy"]) expect(typeof s[method]).toBe("function");
    });
  });
};
