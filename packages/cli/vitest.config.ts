import { mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// Every test starts the real binary from source (a Node process compiling
// TypeScript on the fly), often more than once: allow for a loaded machine.
export default mergeConfig(shared, { test: { testTimeout: 90_000 } });
