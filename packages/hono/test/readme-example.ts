import { serve } from "@hono/node-server";
import { createSessionManager } from "@sessionkit/core";
import { type SessionVariables, sessionMiddleware } from "@sessionkit/hono";
import { createMemoryStore } from "@sessionkit/store-memory";
import { Hono } from "hono";

interface CartData {
  cart: string[];
}
interface PrefsData {
  theme: string;
}

const secret = process.env.SESSION_SECRET;
if (secret === undefined) throw new Error("set SESSION_SECRET to at least 32 random bytes");
const store = createMemoryStore();

type Env = {
  Variables: SessionVariables<"session", CartData> & SessionVariables<"prefs", PrefsData>;
};

export const app = new Hono<Env>();
app.use(sessionMiddleware(createSessionManager<CartData>({ store, secrets: [secret] })));
app.use(
  sessionMiddleware(
    createSessionManager<PrefsData>({ store, secrets: [secret], cookie: { name: "__Host-prefs" } }),
    { sessionName: "prefs" },
  ),
);

app.get("/", (c) => {
  return c.json({
    cart: c.get("session").get("cart") ?? [],
    theme: c.get("prefs").get("theme") ?? "light",
  });
});

app.post("/cart", async (c) => {
  const session = c.get("session");
  const cart = [...(session.get("cart") ?? []), await c.req.text()];
  session.set("cart", cart);
  return c.json({ cart, theme: c.get("prefs").get("theme") ?? "light" });
});

// Ends the cart session; the display preferences stay.
app.post("/logout", (c) => {
  c.get("session").destroy();
  return c.json({ cart: [] });
});

const port = Number(process.env.PORT ?? 3000);
export const server = serve({ fetch: app.fetch, port }, () =>
  console.warn(`listening on http://localhost:${port}`),
);
