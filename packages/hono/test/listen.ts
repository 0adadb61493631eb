import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { RunningApp } from "@sessionkit/adapter-scenarios";

/** Serves a Hono app's `fetch` over a real socket with @hono/node-server. */
export function listen(
  fetch: (request: Request) => Response | Promise<Response>,
): Promise<RunningApp> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            if ("closeAllConnections" in server) server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
