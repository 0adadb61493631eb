import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createSessionManager,
  type Session,
  type SessionManager,
  type SessionStore,
} from "@sessionkit/core";
import { createNodeHandler } from "@sessionkit/core/node";
import { csrfTokenMatches, newCsrfToken } from "./csrf.js";
import type { SafeHtml } from "./html.js";
import { addToCart, type CartLine } from "./shop.js";
import { displayNameOf, verifyPassword } from "./users.js";
import {
  type DeviceRow,
  devicesPage,
  layout,
  loginPage,
  messagePage,
  type PageFrame,
  STYLESHEET,
  shopPage,
} from "./views.js";

/** What the demo keeps in a session (JSON values only). */
export interface DemoData {
  /** The session's CSRF token; renewed at sign-in. */
  csrf: string;
  cart: CartLine[];
  /** `User-Agent` at sign-in, for "your devices". */
  userAgent: string;
  /** Sign-in time, epoch ms. */
  signedInAt: number;
}

/** Flash messages, shown once on the next page. */
export interface DemoFlash {
  info: string;
  error: string;
}

type DemoSession = Session<DemoData, DemoFlash>;

/** Options of {@link createApp}. */
export interface DemoAppOptions {
  /** Where sessions live. The app never closes it: whoever opened it does. */
  readonly store: SessionStore;
  /** Signing secret, at least 32 bytes. */
  readonly secret: string;
  /** Port to listen on; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Errors behind a 500/503 response. @default console.error */
  readonly onError?: (error: unknown) => void;
}

/** A demo server, not yet listening. */
export interface DemoApp {
  readonly server: Server;
  readonly sessions: SessionManager<DemoData, DemoFlash>;
  /** Starts listening on 127.0.0.1 and resolves with the URL to open, `http://localhost:<port>`. */
  listen(): Promise<string>;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** How long "Remember me" keeps a session: 30 days. */
const REMEMBER_ME_MS = 30 * 24 * 3_600_000;

/** Longest form body accepted, in bytes. */
const MAX_FORM_BYTES = 8 * 1024;
/** Longest stored `User-Agent`, in characters. */
const MAX_USER_AGENT_LENGTH = 300;

const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
};

interface Context {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly session: DemoSession;
  readonly url: URL;
}

interface PostContext extends Context {
  readonly form: URLSearchParams;
}

type GetRoute = (ctx: Context) => Promise<void> | void;
type PostRoute = (ctx: PostContext) => Promise<void> | void;

/**
 * Creates the demo shop: sign-in, a cart, "your devices", on `node:http`
 * with core's `createNodeHandler` and no framework.
 *
 * @example
 * ```ts
 * const app = createApp({ store: await openStore(undefined), secret: process.env.SESSION_SECRET! });
 * console.warn(`open ${await app.listen()}`);
 * ```
 */
export function createApp(options: DemoAppOptions): DemoApp {
  // Cookie defaults kept: __Host-sid, Secure, HttpOnly, SameSite=Lax, Path=/.
  // Browsers store Secure cookies from http://localhost, so no exception is needed.
  const sessions = createSessionManager<DemoData, DemoFlash>({
    store: options.store,
    secrets: [options.secret],
    // "Remember me" sessions may last 30 days; the others still end after
    // 30 minutes without a request (the default idle timeout).
    absoluteTimeoutMs: REMEMBER_ME_MS,
  });
  const onError = options.onError ?? ((error: unknown) => console.error(error));

  const getRoutes = new Map<string, GetRoute>([
    ["/", showShop],
    ["/login", showLogin],
    ["/devices", showDevices],
  ]);
  const postRoutes = new Map<string, PostRoute>([
    ["/cart/add", addItem],
    ["/cart/remove", removeItem],
    ["/login", logIn],
    ["/logout", logOut],
    ["/devices/logout-others", logOutOthers],
    ["/devices/sign-out", signOutDevice],
  ]);

  const withSession = createNodeHandler(
    sessions,
    async (req, res, session) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const ctx: Context = { req, res, session, url };
      const method = req.method === "HEAD" ? "GET" : req.method;
      if (method === "GET") {
        const route = getRoutes.get(url.pathname);
        if (route !== undefined) return route(ctx);
      } else if (method === "POST") {
        const route = postRoutes.get(url.pathname);
        if (route !== undefined) return handlePost(ctx, route);
      }
      if (getRoutes.has(url.pathname) || postRoutes.has(url.pathname)) {
        const allow = [
          getRoutes.has(url.pathname) && "GET, HEAD",
          postRoutes.has(url.pathname) && "POST",
        ];
        res.setHeader("Allow", allow.filter(Boolean).join(", "));
        return sendMessage(ctx, 405, "Method not allowed", "This address does not accept that.");
      }
      return sendMessage(ctx, 404, "Not found", "There is nothing at this address.");
    },
    { onError },
  );

  const server = createServer((req, res) => {
    // Static files need no session: serve them before any session is loaded.
    if (req.url === "/style.css" && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(200, {
        "Content-Type": "text/css; charset=utf-8",
        "Cache-Control": "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
      });
      res.end(STYLESHEET);
      return;
    }
    withSession(req, res);
  });

  return {
    server,
    sessions,
    listen() {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, "127.0.0.1", () => {
          server.off("error", reject);
          resolve(`http://localhost:${(server.address() as AddressInfo).port}`);
        });
      });
    },
    close() {
      return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

// --- pages -----------------------------------------------------------------

function showShop(ctx: Context): void {
  const csrf = ensureCsrfToken(ctx.session);
  sendPage(ctx, 200, { title: "Shop", section: "shop" }, shopPage(cartOf(ctx.session), csrf));
}

function showLogin(ctx: Context): void {
  if (ctx.session.userId !== undefined) {
    redirect(ctx, "/");
    return;
  }
  const csrf = ensureCsrfToken(ctx.session);
  // After sign-out the session is gone, so there is no flash to carry the message.
  const info = ctx.url.searchParams.has("signed-out") ? ["You have signed out."] : [];
  sendPage(ctx, 200, { title: "Sign in", section: "login", info }, loginPage(csrf, ""));
}

async function showDevices(ctx: Context): Promise<void> {
  const { session } = ctx;
  if (session.userId === undefined) return requireSignIn(ctx, "Sign in to see your devices.");
  const rows: DeviceRow[] = (await session.listSessions()).map((info) => ({
    handle: info.handle,
    userAgent: typeof info.data?.userAgent === "string" ? info.data.userAgent : "Unknown device",
    createdAt: info.createdAt,
    expiresAt: info.expiresAt,
    current: info.current,
  }));
  const csrf = ensureCsrfToken(session);
  sendPage(
    ctx,
    200,
    { title: "Your devices", section: "devices" },
    devicesPage(rows, csrf, Date.now()),
  );
}

// --- form posts --------------------------------------------------------------

async function handlePost(ctx: Context, route: PostRoute): Promise<void> {
  const form = await readForm(ctx.req);
  if (typeof form === "number") {
    const [heading, text] =
      form === 413
        ? ["Too large", "That form was too large."]
        : ["Unsupported form", "Forms must be sent as application/x-www-form-urlencoded."];
    return sendMessage(ctx, form, heading, text);
  }
  // Every POST must carry the session's token: a cross-site form cannot know it.
  if (!csrfTokenMatches(ctx.session.get("csrf"), form.get("_csrf"))) {
    return sendMessage(
      ctx,
      403,
      "Request refused",
      "This form has expired or did not come from this site. Go back, reload the page and try again.",
    );
  }
  return route({ ...ctx, form });
}

function addItem(ctx: PostContext): void {
  const { session, form } = ctx;
  const productId = form.get("product");
  const item = productId !== null ? { productId } : { request: form.get("custom") ?? "" };
  const result = addToCart(cartOf(session), item);
  if (typeof result === "string") {
    session.flash("error", result);
  } else {
    session.set("cart", result.cart);
    session.flash("info", `Added “${result.added.name}” to your cart.`);
  }
  redirect(ctx, "/");
}

function removeItem(ctx: PostContext): void {
  const { session, form } = ctx;
  const cart = cartOf(session);
  const remaining = cart.filter((line) => line.id !== form.get("line"));
  if (remaining.length === cart.length) session.flash("error", "That item is not in your cart.");
  else session.set("cart", remaining);
  redirect(ctx, "/");
}

async function logIn(ctx: PostContext): Promise<void> {
  const { session, form, req } = ctx;
  const user = await verifyPassword(form.get("username") ?? "", form.get("password") ?? "");
  if (user === undefined) {
    session.flash("error", "Wrong username or password.");
    return redirect(ctx, "/login");
  }
  // A new session id on every privilege change (fixation), the cart carried
  // over, and a new CSRF token: the pre-login one is left out of `keep`.
  //
  // Core applies `keep` when the session is committed, to the data as it is
  // then, so values set after regenerate() in this request would be dropped
  // unless listed too. Set the fresh values first, then list them.
  session.set("csrf", newCsrfToken());
  session.set(
    "userAgent",
    (req.headers["user-agent"] ?? "Unknown device").slice(0, MAX_USER_AGENT_LENGTH),
  );
  session.set("signedInAt", Date.now());
  session.regenerate({ keep: ["cart", "csrf", "userAgent", "signedInAt"] });
  session.setUser(user.username);
  // "Remember me": a persistent cookie for this session only, which the server
  // keeps through 30 days without a visit; otherwise a browser-session cookie.
  session.persist(form.get("remember") === "yes" ? REMEMBER_ME_MS : false);
  session.flash("info", `Welcome, ${user.displayName}!`);
  redirect(ctx, "/");
}

function logOut(ctx: PostContext): void {
  // Deletes the record before the response goes out and clears the cookie.
  ctx.session.destroy();
  redirect(ctx, "/login?signed-out");
}

async function logOutOthers(ctx: PostContext): Promise<void> {
  const { session } = ctx;
  if (session.userId === undefined) return requireSignIn(ctx, "Sign in to manage your devices.");
  const count = await session.destroyOtherSessions();
  session.flash(
    "info",
    count === 0
      ? "You were not signed in anywhere else."
      : `Signed out ${count} other ${count === 1 ? "device" : "devices"}.`,
  );
  redirect(ctx, "/devices");
}

async function signOutDevice(ctx: PostContext): Promise<void> {
  const { session, form } = ctx;
  if (session.userId === undefined) return requireSignIn(ctx, "Sign in to manage your devices.");
  const handle = form.get("handle") ?? "";
  const devices = await session.listSessions();
  if (devices.some((device) => device.current && device.handle === handle)) {
    session.destroy();
    return redirect(ctx, "/login?signed-out");
  }
  // destroySession() checks the handle belongs to this user: another user's is refused.
  const ended = await session.destroySession(handle);
  session.flash("info", ended ? "Signed out that device." : "That device was already signed out.");
  redirect(ctx, "/devices");
}

// --- helpers ---------------------------------------------------------------

function cartOf(session: DemoSession): CartLine[] {
  const cart = session.get("cart");
  return Array.isArray(cart) ? cart : [];
}

function ensureCsrfToken(session: DemoSession): string {
  const existing = session.get("csrf");
  if (typeof existing === "string" && existing !== "") return existing;
  const token = newCsrfToken();
  session.set("csrf", token);
  return token;
}

function requireSignIn(ctx: Context, message: string): void {
  ctx.session.flash("error", message);
  redirect(ctx, "/login");
}

function redirect(ctx: Pick<Context, "res">, location: string): void {
  ctx.res.writeHead(303, { Location: location, "Cache-Control": "no-store" });
  ctx.res.end();
}

function sendPage(
  ctx: Context,
  status: number,
  frame: Pick<PageFrame, "title" | "section"> & { info?: readonly string[] },
  content: SafeHtml,
): void {
  const { session, res } = ctx;
  const user = session.userId === undefined ? undefined : displayNameOf(session.userId);
  const csrf = session.get("csrf");
  const body = layout(
    {
      ...frame,
      user,
      csrf,
      info: [...(frame.info ?? []), ...session.consumeFlash("info")],
      errors: session.consumeFlash("error"),
    },
    content,
  ).value;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "Content-Type": "text/html; charset=utf-8",
    // Pages hold a CSRF token and personal data: never cache them.
    "Cache-Control": "no-store",
  });
  res.end(body);
}

function sendMessage(ctx: Context, status: number, heading: string, text: string): void {
  sendPage(ctx, status, { title: heading }, messagePage(heading, text));
}

/** The urlencoded form body, or the status to answer with (413 too large, 415 other types). */
function readForm(req: IncomingMessage): Promise<URLSearchParams | 413 | 415> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  return new Promise((resolve, reject) => {
    let size = 0;
    let chunks: Buffer[] | undefined = [];
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      // Keep draining (so the 413 can be sent) but stop buffering.
      if (size > MAX_FORM_BYTES) chunks = undefined;
      else chunks?.push(chunk);
    });
    req.on("error", reject);
    req.on("end", () => {
      if (type !== "application/x-www-form-urlencoded") resolve(415);
      else if (chunks === undefined) resolve(413);
      else resolve(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
    });
  });
}
