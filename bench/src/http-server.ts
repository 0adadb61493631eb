import type { ServiceNames } from "./backends.js";
import { type AppSpec, type RunningApp, startApp, workMicrosSpentSoFar } from "./http-apps.js";

/**
 * Child process serving one app at a time, so autocannon (in the parent) and
 * the server never share an event loop. Protocol over IPC:
 * `{ start: AppSpec }` → `{ port }` or `{ error }`; `{ stop: true }` → `{ stopped: true }`;
 * `{ usage: true }` → `{ cpuMicros, systemMicros, workMicros, wallMicros }`:
 * this process's CPU time (user + system), the part of it spent in the
 * kernel, the time a calibration app spent in its work, and a monotonic
 * clock, so the parent can tell how busy the server was during a run and
 * where its time went.
 */
const names = JSON.parse(process.argv[2] as string) as ServiceNames;
let running: RunningApp | undefined;

process.on("message", (message: { start?: AppSpec; stop?: boolean; usage?: boolean }) => {
  void (async () => {
    try {
      if (message.usage) {
        const { user, system } = process.cpuUsage();
        process.send?.({
          cpuMicros: user + system,
          systemMicros: system,
          workMicros: workMicrosSpentSoFar(),
          wallMicros: performance.now() * 1000,
        });
      } else if (message.start !== undefined) {
        running = await startApp(message.start, names);
        process.send?.({ port: running.port });
      } else if (message.stop) {
        await running?.close();
        running = undefined;
        process.send?.({ stopped: true });
      }
    } catch (error) {
      process.send?.({ error: error instanceof Error ? error.message : String(error) });
    }
  })();
});
process.on("disconnect", () => process.exit(0));
