import { createSessionManager, type Session } from "@sessionkit/core";
import { sessionPlugin } from "@sessionkit/fastify";
import { createMemoryStore } from "@sessionkit/store-memory";
import Fastify from "fastify";

interface CartData {
  cart: string[];
}
interface PrefsData {
  theme: string;
}

// Types request.session and the named request.prefs.
declare module "@sessionkit/fastify" {
  interface FastifySessions {
    session: Session<CartData>;
    prefs: Session<PrefsData>;
  }
}

const secret = process.env.SESSION_SECRET;
if (secret === undefined) throw new Error("set SESSION_SECRET to at least 32 random bytes");
const store = createMemoryStore();

export const app = Fastify();
await app.register(sessionPlugin, {
  manager: createSessionManager<CartData>({ store, secrets: [secret] }),
});
await app.register(sessionPlugin, {
  manager: createSessionManager<PrefsData>({
    store,
    secrets: [secret],
    cookie: { name: "__Host-prefs" },
  }),
  decorator: "prefs",
});

app.post<{ Body: string }>("/cart", async (request) => {
  const cart = [...(request.session.get("cart") ?? []), request.body];
  request.session.set("cart", cart);
  return { items: cart.length, theme: request.prefs.get("theme") ?? "light" };
});
