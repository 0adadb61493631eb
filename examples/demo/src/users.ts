import { randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";

/** A demo account. */
export interface DemoUser {
  readonly username: string;
  readonly displayName: string;
}

interface Account extends DemoUser {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

const KEY_LENGTH = 32;
const MAX_PASSWORD_LENGTH = 256;

/** The fixed demo accounts and their passwords (shown on the sign-in page: it is a demo). */
export const DEMO_CREDENTIALS: readonly { username: string; password: string }[] = [
  { username: "alice", password: "wonderland" },
  { username: "bob", password: "builder" },
];

const DISPLAY_NAMES: Record<string, string> = { alice: "Alice", bob: "Bob" };

// Only salted scrypt hashes are kept in memory, as a real user table would hold them.
const accounts = new Map<string, Account>(
  DEMO_CREDENTIALS.map(({ username, password }) => {
    const salt = randomBytes(16);
    const account: Account = {
      username,
      displayName: DISPLAY_NAMES[username] ?? username,
      salt,
      hash: scryptSync(password, salt, KEY_LENGTH),
    };
    return [username, account];
  }),
);

// Unknown usernames are checked against this, so they cost the same time as known ones.
const decoy = { salt: randomBytes(16), hash: randomBytes(KEY_LENGTH) };

function hashPassword(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** The user with that username and password, or `undefined`. Constant-time on the hash. */
export async function verifyPassword(
  username: string,
  password: string,
): Promise<DemoUser | undefined> {
  const account = accounts.get(username);
  const expected = account ?? decoy;
  const given = await hashPassword(password.slice(0, MAX_PASSWORD_LENGTH), expected.salt);
  const matches = timingSafeEqual(given, expected.hash);
  if (account === undefined || !matches || password.length > MAX_PASSWORD_LENGTH) return undefined;
  return { username: account.username, displayName: account.displayName };
}

/** The display name of a signed-in user id. */
export function displayNameOf(username: string): string {
  return accounts.get(username)?.displayName ?? username;
}
