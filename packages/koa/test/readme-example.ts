import { createSessionManager, type Session } from "@sessionkit/core";
import { session } from "@sessionkit/koa";
import { createMemoryStore } from "@sessionkit/store-memory";
import Koa from "koa";

interface CartData {
  cart: string[];
}
interface PrefsData {
  theme: string;
}

// Types ctx.session and the named ctx.prefs.
declare module "@sessionkit/koa" {
  interface KoaSessions {
    session: Session<CartData>;
    prefs: Session<PrefsData>;
  }
}

const secret = process.env.SESSION_SECRET;
if (secret === undefined) throw new Error("set SESSION_SECRET to at least 32 random bytes");
const store = createMemoryStore();

export const app = new Koa();
// Error handling first (outermost), so a thrown error passes through the
// session middleware, which then saves nothing.
app.use(async (ctx, next) => {
  try {
    await next();
  } catch (error) {
    ctx.status = (error as { status?: number }).status ?? 500;
    ctx.body = "Something went wrong";
    ctx.app.emit("error", error, ctx);
  }
});
app.use(session(createSessionManager<CartData>({ store, secrets: [secret] })));
app.use(
  session(
    createSessionManager<PrefsData>({ store, secrets: [secret], cookie: { name: "__Host-prefs" } }),
    { sessionName: "prefs" },
  ),
);
app.use(async (ctx) => {
  if (ctx.method === "POST" && ctx.path === "/cart") {
    let item = "";
    for await (const chunk of ctx.req) item += chunk;
    ctx.session.set("cart", [...(ctx.session.get("cart") ?? []), item]);
  } else if (ctx.method === "POST" && ctx.path === "/logout") {
    // Ends the cart session; the display preferences stay.
    ctx.session.destroy();
    ctx.body = { cart: [] };
    return;
  }
  ctx.body = { cart: ctx.session.get("cart") ?? [], theme: ctx.prefs.get("theme") ?? "light" };
});

const port = Number(process.env.PORT ?? 3000);
export const server = app.listen(port, () => console.warn(`listening on http://localhost:${port}`));
