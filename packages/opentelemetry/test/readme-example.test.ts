import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { trace } from "@opentelemetry/api";
import { expect, it } from "vitest";
import { driveCartApp } from "../../../scripts/newcomer/drive.mjs";
import { closedPort } from "./helpers.js";

it("the README example keeps a cart per browser session with the Node SDK started", async () => {
  process.env.SESSION_SECRET = "readme-example-secret-0123456789-abcdefghij";
  process.env.PORT = "0";
  // No collector here: spans go to a loopback port nothing listens on.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${await closedPort()}`;
  process.env.OTEL_METRICS_EXPORTER = "none";
  process.env.OTEL_LOGS_EXPORTER = "none";
  const { server } = await import("./readme-example.js");
  if (!server.listening) await once(server, "listening");
  try {
    // The SDK registered its tracer provider globally, so sessionTelemetry() records.
    expect(trace.getTracer("check").startSpan("check").isRecording()).toBe(true);
    const { port } = server.address() as AddressInfo;
    const { sessionCookies } = await driveCartApp(`http://127.0.0.1:${port}`);
    expect(sessionCookies).toEqual(["__Host-sid"]);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
