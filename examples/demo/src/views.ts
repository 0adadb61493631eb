import { html, type SafeHtml } from "./html.js";
import { type CartLine, formatPrice, PRODUCTS } from "./shop.js";
import { DEMO_CREDENTIALS } from "./users.js";

/** What every page shows around its content. */
export interface PageFrame {
  readonly title: string;
  /** Display name of the signed-in user. */
  readonly user: string | undefined;
  /** The session's CSRF token, for the forms on the page (the sign-out button included). */
  readonly csrf: string | undefined;
  readonly info: readonly string[];
  readonly errors: readonly string[];
  /** Which navigation entry is current. */
  readonly section?: "shop" | "devices" | "login";
}

function csrfField(csrf: string | undefined): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${csrf ?? ""}">`;
}

/** The page skeleton: navigation, flash messages, content. */
export function layout(frame: PageFrame, content: SafeHtml): SafeHtml {
  const current = (section: PageFrame["section"]) =>
    frame.section === section ? html` aria-current="page"` : "";
  const account =
    frame.user === undefined
      ? html`<a href="/login"${current("login")}>Sign in</a>`
      : html`<span class="who">Signed in as <strong>${frame.user}</strong></span>
          <form method="post" action="/logout" class="inline">${csrfField(frame.csrf)}
            <button type="submit" class="link">Sign out</button></form>`;
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${frame.title} · sessionkit demo</title>
  <link rel="stylesheet" href="/style.css">
</head>
<body>
  <header>
    <a class="brand" href="/">☕ sessionkit shop</a>
    <nav>
      <a href="/"${current("shop")}>Shop</a>
      <a href="/devices"${current("devices")}>Your devices</a>
      ${account}
    </nav>
  </header>
  <main>
    ${frame.info.map((message) => html`<p class="flash info" role="status">${message}</p>`)}
    ${frame.errors.map((message) => html`<p class="flash error" role="alert">${message}</p>`)}
    ${content}
  </main>
  <footer>sessionkit demo: server-side sessions on plain node:http, no framework.</footer>
</body>
</html>
`;
}

/** The shop: products, a free-text request, and the cart. */
export function shopPage(cart: readonly CartLine[], csrf: string): SafeHtml {
  const total = cart.reduce((sum, line) => sum + (line.priceCents ?? 0) * line.quantity, 0);
  const products = PRODUCTS.map(
    (product) => html`<li class="card">
      <h3>${product.name}</h3>
      <p class="price">${formatPrice(product.priceCents)}</p>
      <form method="post" action="/cart/add">${csrfField(csrf)}
        <input type="hidden" name="product" value="${product.id}">
        <button type="submit">Add to cart</button>
      </form>
    </li>`,
  );
  const lines =
    cart.length === 0
      ? html`<p class="muted">Your cart is empty.</p>`
      : html`<table class="cart">
      <thead><tr><th>Item</th><th>Qty</th><th>Price</th><th></th></tr></thead>
      <tbody>
        ${cart.map(
          (line) => html`<tr>
          <td class="item">${line.name}</td>
          <td>${line.quantity}</td>
          <td>${line.priceCents === null ? "on request" : formatPrice(line.priceCents * line.quantity)}</td>
          <td><form method="post" action="/cart/remove">${csrfField(csrf)}
            <input type="hidden" name="line" value="${line.id}">
            <button type="submit" class="link">Remove</button></form></td>
        </tr>`,
        )}
      </tbody>
      <tfoot><tr><th>Total</th><td></td><th>${formatPrice(total)}</th><td></td></tr></tfoot>
    </table>`;
  return html`<h1>Shop</h1>
<div class="columns">
  <section>
    <ul class="products">${products}</ul>
    <form method="post" action="/cart/add" class="request">${csrfField(csrf)}
      <label for="custom">Can't find it? Ask for any item:</label>
      <input id="custom" name="custom" maxlength="80" required placeholder="e.g. oat milk">
      <button type="submit">Request</button>
    </form>
  </section>
  <section class="panel">
    <h2>Your cart</h2>
    ${lines}
  </section>
</div>`;
}

/** The sign-in form. */
export function loginPage(csrf: string, username: string): SafeHtml {
  return html`<h1>Sign in</h1>
<form method="post" action="/login" class="panel login">${csrfField(csrf)}
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username" required value="${username}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <label class="remember"><input type="checkbox" name="remember" value="yes"> Remember me on this device for 30 days</label>
  <button type="submit">Sign in</button>
</form>
<p class="muted">Demo accounts: ${DEMO_CREDENTIALS.map(
    ({ username: name, password }, index) =>
      html`${index > 0 ? ", " : ""}<code>${name}</code> / <code>${password}</code>`,
  )}. Your cart is kept when you sign in.</p>`;
}

/** One row of the devices page. */
export interface DeviceRow {
  readonly handle: string;
  readonly userAgent: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly current: boolean;
}

/** A short, best-effort name for a user agent ("Safari on iPhone"); the full string is shown too. */
export function describeUserAgent(userAgent: string): string {
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Firefox\//.test(userAgent)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(userAgent)
        ? "Chrome"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : undefined;
  const system = /iPhone|iPad/.test(userAgent)
    ? /iPad/.test(userAgent)
      ? "iPad"
      : "iPhone"
    : /Android/.test(userAgent)
      ? "Android"
      : /Windows/.test(userAgent)
        ? "Windows"
        : /Mac OS X|Macintosh/.test(userAgent)
          ? "macOS"
          : /Linux|X11/.test(userAgent)
            ? "Linux"
            : undefined;
  if (browser !== undefined && system !== undefined) return `${browser} on ${system}`;
  return browser ?? system ?? "Unknown browser";
}

function formatTime(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function formatRemaining(epochMs: number, now: number): string {
  const minutes = Math.max(0, Math.round((epochMs - now) / 60_000));
  return minutes < 60 ? `in ${minutes} min` : `in ${Math.round(minutes / 60)} h`;
}

/** "Your devices": every live session of the user. */
export function devicesPage(devices: readonly DeviceRow[], csrf: string, now: number): SafeHtml {
  // This device first, then the others, newest first (the order listSessions() gives).
  const ordered = [...devices].sort((a, b) => Number(b.current) - Number(a.current));
  const rows = ordered.map(
    (device) => html`<tr${device.current ? html` class="current"` : ""}>
      <td class="agent"><strong>${describeUserAgent(device.userAgent)}</strong>${device.current ? html` <span class="badge">this device</span>` : ""}
        <div class="ua">${device.userAgent}</div></td>
      <td class="nowrap">${formatTime(device.createdAt)}</td>
      <td class="nowrap" title="${formatTime(device.expiresAt)}">${formatRemaining(device.expiresAt, now)}</td>
      <td class="nowrap">${
        device.current
          ? html`<span class="muted">—</span>`
          : html`<form method="post" action="/devices/sign-out">${csrfField(csrf)}
          <input type="hidden" name="handle" value="${device.handle}">
          <button type="submit" class="link danger">Sign out</button></form>`
      }</td>
    </tr>`,
  );
  const others = devices.filter((device) => !device.current).length;
  return html`<h1>Your devices</h1>
<p class="muted">Everywhere you are signed in right now. A session ends after 30 minutes without activity or 12 hours after sign-in.</p>
<table class="devices">
  <thead><tr><th>Device</th><th>Signed in</th><th>Expires</th><th></th></tr></thead>
  <tbody>${rows}</tbody>
</table>
<form method="post" action="/devices/logout-others">${csrfField(csrf)}
  <button type="submit" class="danger"${others === 0 ? html` disabled` : ""}>Log out everywhere else</button>
  <span class="muted">${others === 1 ? "1 other device" : `${others} other devices`}</span>
</form>`;
}

/** A short page for errors (403, 404, …). */
export function messagePage(heading: string, text: string): SafeHtml {
  return html`<h1>${heading}</h1><p>${text}</p><p><a href="/">Back to the shop</a></p>`;
}

/** The stylesheet, served from `/style.css` (the CSP allows no inline styles). */
export const STYLESHEET = `:root { color-scheme: light; --ink: #1f2933; --muted: #66788a; --line: #d9e2ec; --accent: #2f6f4f; --danger: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f5f7fa; }
header { display: flex; justify-content: space-between; align-items: center; padding: 0.75rem 2rem; background: #fff; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; color: var(--accent); text-decoration: none; font-size: 1.1rem; }
nav { display: flex; gap: 1.25rem; align-items: center; }
nav a { color: var(--ink); text-decoration: none; }
nav a[aria-current="page"] { color: var(--accent); font-weight: 600; border-bottom: 2px solid var(--accent); }
.who { color: var(--muted); }
main { max-width: 960px; margin: 2rem auto; padding: 0 1.5rem; }
footer { max-width: 960px; margin: 3rem auto 2rem; padding: 0 1.5rem; color: var(--muted); font-size: 0.85rem; }
h1 { margin-top: 0; }
.muted { color: var(--muted); }
.flash { padding: 0.75rem 1rem; border-radius: 6px; margin: 0 0 1rem; }
.flash.info { background: #e3f4ea; border: 1px solid #9fd3b4; }
.flash.error { background: #fdecea; border: 1px solid #f1aaa4; }
.columns { display: grid; grid-template-columns: 3fr 2fr; gap: 2rem; align-items: start; }
.products { list-style: none; padding: 0; margin: 0 0 1.5rem; display: grid; grid-template-columns: repeat(2, 1fr); gap: 1rem; }
.card, .panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; }
.card h3 { margin: 0.25rem 0; font-size: 1rem; }
.price { margin: 0 0 0.75rem; color: var(--muted); }
button { font: inherit; padding: 0.4rem 0.9rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button:disabled { opacity: 0.5; cursor: default; }
button.link { background: none; border: none; color: var(--accent); padding: 0; text-decoration: underline; }
button.danger { background: var(--danger); border-color: var(--danger); }
button.link.danger { background: none; color: var(--danger); }
form.inline { display: inline; }
.request { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
.request label { width: 100%; }
input { font: inherit; padding: 0.4rem 0.6rem; border: 1px solid var(--line); border-radius: 6px; }
.login { display: grid; gap: 0.5rem; max-width: 360px; }
.login .remember { display: flex; gap: 0.5rem; align-items: center; font-weight: normal; }
table { width: 100%; border-collapse: collapse; background: #fff; }
th, td { text-align: left; padding: 0.5rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.cart td.item, .devices td.agent { overflow-wrap: break-word; }
.devices { border: 1px solid var(--line); border-radius: 8px; margin-bottom: 1rem; }
.devices tr.current { background: #f0f8f3; }
.devices .ua { color: var(--muted); font-size: 0.8rem; }
.nowrap { white-space: nowrap; }
.badge { display: inline-block; margin-left: 0.4rem; padding: 0 0.5rem; border-radius: 999px; background: var(--accent); color: #fff; font-size: 0.75rem; }
code { background: #e4e7eb; padding: 0 0.3rem; border-radius: 4px; }
@media (max-width: 720px) { .columns, .products { grid-template-columns: 1fr; } }
`;
