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

export const app = Fastify({ logger: true });
await app.register(sessionPlugin, {
  manager: createSessionManager<CartData>({ store, secrets: [secret] }),
});
await app.register(sessionPlugin, {
  manager: createSessionManager<PrefsData>({
    store,
    secrets: [secret],
    cookie: { name: "__Host-prefs" },
  }),
  sessionName: "prefs",
});

app.get("/", async (request) => {
  return { cart: request.session.get("cart") ?? [], theme: request.prefs.get("theme") ?? "light" };
});

app.post<{ Body: string }>("/cart", async (request) => {
  const cart = [...(request.session.get("cart") ?? []), request.body];
  request.session.set("cart", cart);
  return { cart, theme: request.prefs.get("theme") ?? "light" };
});

// Ends the cart session; the display preferences stay.
app.post("/logout", async (request) => {
  request.session.destroy();
  return { cart: [] };
});

await app.listen({ port: Number(process.env.PORT ?? 3000) });
