import { createServer } from "node:http";
import { createNodeHandler, createSessionManager, createStoreRegistry } from "@sessionkit/core";
import { createSqliteStore, sqliteProvider } from "@sessionkit/store-sqlite";
import Database from "better-sqlite3";

interface Data {
  cart: string[];
}

// Opens (or creates, with mode 0600) the file, migrates it, and closes it on close().
export const store = createSqliteStore({ path: "./sessions.db" });

const sessions = createSessionManager<Data>({
  store,
  secrets: [process.env.SESSION_SECRET as string],
});

export const server = createServer(
  createNodeHandler(sessions, (req, res, session) => {
    if (req.method === "POST") session.set("cart", [...(session.get("cart") ?? []), "apple"]);
    res.end(`${session.get("cart")?.length ?? 0} item(s) in your cart\n`);
  }),
);

export async function otherWaysToOpen() {
  // A connection you opened yourself: close() leaves it open.
  const database = new Database("./app.db");
  const shared = createSqliteStore({ database, table: "web_sessions" });
  // From configuration: sqlite:./sessions.db, sqlite:/abs/path.db or sqlite::memory:
  const registry = createStoreRegistry().register(sqliteProvider);
  const configured = await registry.open(process.env.SESSION_STORE_URL ?? "sqlite:./sessions.db");
  return { database, shared, configured };
}
