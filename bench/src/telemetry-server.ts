import { createServer } from "node:http";
import { createSessionManager } from "@sessionkit/core";
import { createNodeHandler } from "@sessionkit/core/node";
import { sessionTelemetry } from "@sessionkit/opentelemetry";
import { createMemoryStore } from "@sessionkit/store-memory";
import { SECRET } from "./subject.js";
import { type BenchData, sessionData } from "./workload.js";

/**
 * Child process of the telemetry subject: node:http + sessionkit on the memory
 * store, without instrumentation (`off`) or with `sessionTelemetry()` on the
 * global OpenTelemetry API and no SDK registered (`noop`). Sends `{ port }`
 * once listening; exits when the parent disconnects.
 */
const variant = process.argv[2] === "noop" ? "noop" : "off";
const store = createMemoryStore({ maxEntries: 100_000 });
const sessions = createSessionManager<BenchData>({
  store,
  secrets: [SECRET],
  cookie: { secure: false },
  ...(variant === "noop" ? { instrumentation: sessionTelemetry() } : {}),
});

let visits = 0;
const server = createServer(
  createNodeHandler(sessions, (req, res, session) => {
    if (req.url === "/login") {
      const data = sessionData(visits++);
      for (const key of Object.keys(data) as (keyof BenchData)[]) session.set(key, data[key]);
    } else if (req.url === "/write") {
      session.set("visits", ++visits);
    } else if (req.url !== "/read") {
      res.writeHead(404).end();
      return;
    }
    res.setHeader("Content-Type", "application/json");
    res.end(`{"ok":true,"roles":${session.get("roles")?.length ?? 0}}`);
  }),
);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ port: typeof address === "object" && address !== null ? address.port : 0 });
});
process.on("disconnect", () => process.exit(0));
