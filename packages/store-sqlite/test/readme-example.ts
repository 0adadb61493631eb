import { createServer } from "node:http";
import { createSessionManager } from "@sessionkit/core";
import { createNodeHandler } from "@sessionkit/core/node";
import { createSqliteStore } from "@sessionkit/store-sqlite";

interface Data {
  cart: string[];
}

const secret = process.env.SESSION_SECRET;
if (secret === undefined) throw new Error("set SESSION_SECRET to at least 32 random bytes");

// Opens (or creates, with mode 0600) the file, migrates it, and closes it on close().
export const store = createSqliteStore({ url: "sqlite:./sessions.db" });

const sessions = createSessionManager<Data>({ store, secrets: [secret] });

export const server = createServer(
  createNodeHandler(sessions, async (req, res, session) => {
    res.setHeader("Content-Type", "application/json");
    if (req.method === "POST" && req.url === "/cart") {
      let item = "";
      for await (const chunk of req) item += chunk;
      session.set("cart", [...(session.get("cart") ?? []), item]);
    } else if (req.method === "POST" && req.url === "/logout") {
      session.destroy();
      res.end(JSON.stringify({ cart: [] }));
      return;
    }
    res.end(JSON.stringify({ cart: session.get("cart") ?? [] }));
  }),
);

const port = Number(process.env.PORT ?? 3000);
server.listen(port, () => console.warn(`listening on http://localhost:${port}`));
