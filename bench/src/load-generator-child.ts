import { type LoadSpec, runLoad } from "./load-generator.js";

/**
 * Child process of `startLoadGenerator`: says which Node it runs on, then runs
 * each {@link LoadSpec} it is sent and answers `{ run }` or `{ error }`.
 */
process.on("message", (spec: LoadSpec) => {
  runLoad(spec).then(
    (run) => process.send?.({ run }),
    (error: unknown) =>
      process.send?.({ error: error instanceof Error ? error.message : String(error) }),
  );
});
process.on("disconnect", () => process.exit(0));
process.send?.({ version: process.version });
