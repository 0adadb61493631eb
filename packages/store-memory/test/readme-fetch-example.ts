import { createSessionManager, withSession } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";

interface Data {
  cart: string[];
}

const secret = process.env.SESSION_SECRET;
if (secret === undefined) throw new Error("set SESSION_SECRET to at least 32 random bytes");

const sessions = createSessionManager<Data>({
  store: createMemoryStore(),
  secrets: [secret],
});

const fetch = withSession(sessions, async (request, session) => {
  const { pathname } = new URL(request.url);
  if (request.method === "POST" && pathname === "/cart") {
    session.set("cart", [...(session.get("cart") ?? []), await request.text()]);
  } else if (request.method === "POST" && pathname === "/logout") {
    session.destroy();
    return Response.json({ cart: [] });
  }
  return Response.json({ cart: session.get("cart") ?? [] });
});

// `bun run server.ts` and `deno serve server.ts` serve this default export.
export default { fetch };
