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
    { property: "prefs" },
  ),
);
app.use(async (ctx) => {
  const cart = [...(ctx.session.get("cart") ?? []), String(ctx.query.item ?? "")];
  ctx.session.set("cart", cart);
  ctx.body = { items: cart.length, theme: ctx.prefs.get("theme") ?? "light" };
});
