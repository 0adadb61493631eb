import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type { RunningApp } from "@sessionkit/adapter-scenarios";
import type Koa from "koa";

/** Starts a Koa app on a free port of 127.0.0.1. */
export async function listen(app: Koa): Promise<RunningApp> {
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
