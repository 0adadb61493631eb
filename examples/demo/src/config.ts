import { randomBytes } from "node:crypto";

/** Settings of the demo server, read from the environment. */
export interface DemoConfig {
  /** Signing secret for session cookies. */
  readonly secret: string;
  /** True when `SESSION_SECRET` was unset and a random secret was made for this run. */
  readonly secretGenerated: boolean;
  /** Port to listen on. @default 3000 */
  readonly port: number;
  /** `SESSION_STORE_URL`, or `undefined` for the default SQLite file. */
  readonly storeUrl: string | undefined;
}

/**
 * Reads `SESSION_SECRET`, `PORT`, `SESSION_STORE_URL` and `NODE_ENV`. Without
 * `SESSION_SECRET` it makes a random secret in development (sessions then end
 * when the process does) and refuses to start in production.
 */
export function readConfig(env: Readonly<Record<string, string | undefined>>): DemoConfig {
  const production = env.NODE_ENV === "production";
  let secret = env.SESSION_SECRET;
  let secretGenerated = false;
  if (secret === undefined || secret === "") {
    if (production) {
      throw new Error(
        "SESSION_SECRET is required when NODE_ENV=production. Generate one with: " +
          "node -e \"console.log(crypto.randomBytes(32).toString('base64url'))\"",
      );
    }
    secret = randomBytes(32).toString("base64url");
    secretGenerated = true;
  }

  const portText = env.PORT === undefined || env.PORT === "" ? "3000" : env.PORT;
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) {
    throw new Error(`PORT must be a number from 0 to 65535 (got ${JSON.stringify(portText)})`);
  }
  const port = Number(portText);

  const storeUrl = env.SESSION_STORE_URL === "" ? undefined : env.SESSION_STORE_URL;
  return { secret, secretGenerated, port, storeUrl };
}
