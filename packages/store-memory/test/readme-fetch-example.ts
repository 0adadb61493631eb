import { createSessionManager, withSession } from "@sessionkit/core";
import { createMemoryStore } from "@sessionkit/store-memory";

interface Data {
  cart: string[];
}

const sessions = createSessionManager<Data>({
  store: createMemoryStore(),
  secrets: [process.env.SESSION_SECRET as string],
});

export const POST = withSession(sessions, async (request, session) => {
  session.set("cart", [...(session.get("cart") ?? []), await request.text()]);
  return Response.json({ items: session.get("cart")?.length });
});
