declare module "better-sqlite3-session-store" {
  import type { Database } from "better-sqlite3";
  import type { Store } from "express-session";

  interface SqliteStoreOptions {
    client: Database;
    expired?: { clear?: boolean; intervalMs?: number };
  }
  export default function connect(session: {
    Store: typeof Store;
  }): new (
    options: SqliteStoreOptions,
  ) => Store;
}
