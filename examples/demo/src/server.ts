// The demo's command-line entry: `pnpm demo` at the repository root runs it.
import type { SessionStore } from "@sessionkit/core";
import { createApp } from "./app.js";
import { readConfig } from "./config.js";
import { DEFAULT_SQLITE_PATH, openStore } from "./store.js";

async function main(): Promise<void> {
  const config = readConfig(process.env);
  if (config.secretGenerated) {
    console.warn(
      "warning: SESSION_SECRET is not set, so a random secret was generated for this run.\n" +
        "         Sessions will not survive a restart (every cookie stops verifying).\n" +
        "         Set SESSION_SECRET to 32+ random bytes to keep them; it is required when NODE_ENV=production.",
    );
  }

  const store: SessionStore = await openStore(config.storeUrl);
  const app = createApp({ store, secret: config.secret, port: config.port });
  let url: string;
  try {
    url = await app.listen();
  } catch (error) {
    await store.close?.();
    throw error;
  }
  // Only the store's name is printed: a store URL may hold a password.
  const where = config.storeUrl === undefined ? ` (${DEFAULT_SQLITE_PATH})` : "";
  process.stdout.write(`sessionkit demo: sessions in ${store.name}${where}\n`);
  process.stdout.write(`sessionkit demo: open ${url}\n`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    app
      .close()
      .then(() => store.close?.())
      .catch((error: unknown) => {
        console.error(error);
        process.exitCode = 1;
      });
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  const code = (error as { code?: unknown }).code;
  console.error(
    `sessionkit demo: could not start: ${
      code === "EADDRINUSE"
        ? "the port is in use; set PORT to another one"
        : (error as Error).message
    }`,
  );
  process.exitCode = 1;
});
