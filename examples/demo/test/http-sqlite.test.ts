import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { openStore } from "../src/store.js";
import { describeDemoHttp } from "./http-suite.js";

const dir = mkdtempSync(join(tmpdir(), "sessionkit-demo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeDemoHttp("sqlite", {
  open: () => openStore(`sqlite:${join(dir, "sessions.db")}`),
});
