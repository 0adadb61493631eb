// The demo's HTTP behaviour over real sockets, run once per session store.
import { randomBytes } from "node:crypto";
import type { SessionStore } from "@sessionkit/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApp, type DemoApp } from "../src/app.js";
import {
  csrfTokenIn,
  currentDeviceRowIn,
  deviceHandlesIn,
  deviceRowsIn,
  TestClient,
} from "./client.js";

export interface StoreUnderTest {
  /** Opens a fresh, isolated store. */
  open(): Promise<SessionStore>;
  /** Removes what the store left behind (its schema, its keys); runs before close(). */
  cleanup?(store: SessionStore): Promise<void>;
}

const SESSION_COOKIE = "__Host-sid";

export function describeDemoHttp(label: string, storeUnderTest: StoreUnderTest): void {
  describe(`demo over HTTP (${label} store)`, () => {
    let store: SessionStore;
    let app: DemoApp;
    let baseUrl: string;
    const errors: unknown[] = [];
    const client = (userAgent?: string) => new TestClient(baseUrl, userAgent);

    beforeAll(async () => {
      store = await storeUnderTest.open();
      app = createApp({
        store,
        secret: randomBytes(32).toString("base64url"),
        onError: (error) => errors.push(error),
      });
      baseUrl = await app.listen();
    });

    afterEach(() => {
      // A 500/503 behind any test's back fails that test.
      expect(errors).toEqual([]);
    });

    afterAll(async () => {
      await app?.close();
      if (store !== undefined) {
        await storeUnderTest.cleanup?.(store);
        await store.close?.();
      }
    });

    it("GET / sets the __Host-sid cookie with Secure, HttpOnly, SameSite=Lax, Path=/", async () => {
      const reply = await client().get("/");
      expect(reply.status).toBe(200);
      expect(reply.setCookies).toHaveLength(1);
      const [cookie = ""] = reply.setCookies;
      expect(cookie).toMatch(/^__Host-sid=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; /);
      expect(cookie.split("; ").slice(1).sort()).toEqual(
        ["HttpOnly", "Path=/", "SameSite=Lax", "Secure"].sort(),
      );
      expect(reply.headers.get("cache-control")).toBe("no-store");
      expect(reply.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(reply.headers.get("x-content-type-options")).toBe("nosniff");
    });

    it("POST /login answers 303, rotates the cookie, and the old cookie is dead", async () => {
      const visitor = client();
      expect((await visitor.submit("/", "/cart/add", { product: "mug" })).status).toBe(303);
      const before = visitor.cookies.get(SESSION_COOKIE);
      const stale = client();
      stale.cookies.set(SESSION_COOKIE, before as string);

      const reply = await visitor.signIn("alice", "wonderland");
      expect(reply.status).toBe(303);
      expect(reply.location).toBe("/");
      const after = visitor.cookies.get(SESSION_COOKIE);
      expect(after).toBeDefined();
      expect(after).not.toBe(before);

      const home = await visitor.get("/");
      expect(home.body).toContain("Signed in as <strong>Alice</strong>");
      expect(home.body).toContain("Welcome, Alice!");
      expect(home.body).toContain("Stoneware mug"); // the cart was kept
      expect((await visitor.get("/devices")).status).toBe(200);

      // The pre-login id was killed server-side: it neither signs in nor sees the cart.
      const old = await stale.get("/devices");
      expect(old.status).toBe(303);
      expect(old.location).toBe("/login");
      const oldHome = await stale.get("/");
      expect(oldHome.body).toContain("Your cart is empty.");
      expect(oldHome.body).not.toContain("Signed in as");
    });

    it("POST /login with a wrong password or unknown user signs nobody in", async () => {
      for (const [username, password] of [
        ["alice", "builder"],
        ["mallory", "wonderland"],
        ["alice", ""],
      ] as const) {
        const visitor = client();
        const reply = await visitor.submit("/login", "/login", { username, password });
        expect(reply.status).toBe(303);
        expect(reply.location).toBe("/login");
        const page = await visitor.get("/login");
        expect(page.body).toContain("Wrong username or password.");
        expect((await visitor.get("/devices")).location).toBe("/login");
      }
    });

    it("POST without a CSRF token answers 403 and changes nothing", async () => {
      const visitor = client();
      await visitor.get("/"); // has a session and a token, but does not send it
      const reply = await visitor.post("/cart/add", { product: "mug" });
      expect(reply.status).toBe(403);
      expect(reply.body).toContain("Request refused");
      expect((await visitor.get("/")).body).toContain("Your cart is empty.");
      const login = await visitor.post("/login", { username: "alice", password: "wonderland" });
      expect(login.status).toBe(403);
      expect((await visitor.get("/devices")).status).toBe(303);
    });

    it("POST with a wrong or another session's CSRF token answers 403", async () => {
      const visitor = client();
      const own = await visitor.csrfToken("/");
      const wrong = await visitor.post("/cart/add", { product: "mug", _csrf: `${own}x` });
      expect(wrong.status).toBe(403);
      const othersToken = await client().csrfToken("/");
      const foreign = await visitor.post("/cart/add", { product: "mug", _csrf: othersToken });
      expect(foreign.status).toBe(403);
      // A request with no session at all has no token to match.
      const cookieless = await client().post("/cart/add", { product: "mug", _csrf: own });
      expect(cookieless.status).toBe(403);
      expect((await visitor.get("/")).body).toContain("Your cart is empty.");
    });

    it("sign-in renews the CSRF token: the pre-login token is refused afterwards", async () => {
      const visitor = client();
      const preLogin = await visitor.csrfToken("/login");
      await visitor.post("/login", { username: "bob", password: "builder", _csrf: preLogin });
      const postLogin = await visitor.csrfToken("/");
      expect(postLogin).not.toBe(preLogin);
      const reply = await visitor.post("/cart/add", { product: "mug", _csrf: preLogin });
      expect(reply.status).toBe(403);
      expect((await visitor.submit("/", "/cart/add", { product: "mug" })).status).toBe(303);
    });

    it("the cart persists across requests and is private to its session", async () => {
      const visitor = client();
      await visitor.submit("/", "/cart/add", { product: "sencha" });
      await visitor.submit("/", "/cart/add", { product: "sencha" });
      await visitor.submit("/", "/cart/add", { product: "honey" });
      let page = (await visitor.get("/")).body;
      expect(page).toMatch(/Sencha green tea, 100 g<\/td>\s*<td>2<\/td>\s*<td>€17\.00/);
      expect(page).toContain("Wildflower honey");
      expect(page).toContain("€24.20"); // total

      const honeyRow = page.slice(page.indexOf('<td class="item">Wildflower honey</td>'));
      const honeyLine = /name="line" value="([^"]+)"/.exec(honeyRow)?.[1];
      expect(honeyLine).toBeDefined();
      const removed = await visitor.post("/cart/remove", {
        line: honeyLine as string,
        _csrf: csrfTokenIn(page),
      });
      expect(removed.status).toBe(303);
      page = (await visitor.get("/")).body;
      expect(page).not.toContain('<td class="item">Wildflower honey</td>');
      expect(page).toContain('<td class="item">Sencha green tea, 100 g</td>');
      expect(page).toContain("€17.00");

      await visitor.signIn("bob", "builder");
      expect((await visitor.get("/")).body).toContain("Sencha green tea, 100 g</td>");
      expect((await client().get("/")).body).toContain("Your cart is empty.");
    });

    it("GET /devices lists the user's two sessions and marks this device", async () => {
      const laptop = client("Laptop browser/1.0");
      const phone = client("Phone browser/2.0");
      const otherUser = client("Bob's tablet/3.0");
      await laptop.signIn("alice", "wonderland");
      // Start from one Alice session: earlier tests left others in this store.
      await laptop.submit("/devices", "/devices/logout-others", {});
      await phone.signIn("alice", "wonderland");
      await otherUser.signIn("bob", "builder");

      const page = await laptop.get("/devices");
      expect(page.status).toBe(200);
      expect(deviceRowsIn(page.body)).toBe(2);
      expect(page.body).toContain("Phone browser/2.0");
      const current = currentDeviceRowIn(page.body);
      expect(current).toContain('<span class="badge">this device</span>');
      expect(current).toContain("Laptop browser/1.0");
      expect(current).not.toContain("Phone browser/2.0");
      expect(page.body.match(/this device<\/span>/g)).toHaveLength(1);
      expect(page.body).not.toContain("Bob&#39;s tablet/3.0");
      // Only the other device gets a "Sign out" button; this one has the main sign-out.
      expect(deviceHandlesIn(page.body)).toHaveLength(1);
      expect(page.body).toContain("1 other device");
    });

    it("POST /devices/logout-others ends the user's other sessions and no one else's", async () => {
      const laptop = client("Laptop browser/1.0");
      const phone = client("Phone browser/2.0");
      const bob = client("Bob's tablet/3.0");
      await laptop.signIn("alice", "wonderland");
      await phone.signIn("alice", "wonderland");
      await bob.signIn("bob", "builder");

      const reply = await laptop.submit("/devices", "/devices/logout-others", {});
      expect(reply.status).toBe(303);
      expect(reply.location).toBe("/devices");
      const page = await laptop.get("/devices");
      expect(page.body).toMatch(/Signed out \d+ other devices?\./);
      expect(deviceRowsIn(page.body)).toBe(1);
      expect(page.body).toContain("this device");

      const phonePage = await phone.get("/devices");
      expect(phonePage.status).toBe(303);
      expect(phonePage.location).toBe("/login");
      expect((await phone.get("/")).body).not.toContain("Signed in as");
      expect((await bob.get("/devices")).status).toBe(200);
    });

    it("POST /devices/sign-out ends one device; another user's handle is refused", async () => {
      const laptop = client("Laptop browser/1.0");
      const phone = client("Phone browser/2.0");
      const bob1 = client("Bob one");
      const bob2 = client("Bob two");
      for (const device of [laptop, phone]) await device.signIn("alice", "wonderland");
      for (const device of [bob1, bob2]) await device.signIn("bob", "builder");
      await laptop.submit("/devices", "/devices/logout-others", {});
      await phone.signIn("alice", "wonderland");
      await bob1.submit("/devices", "/devices/logout-others", {});
      await bob2.signIn("bob", "builder");

      const bobsHandle = deviceHandlesIn((await bob1.get("/devices")).body)[0] as string;
      const refused = await laptop.submit("/devices", "/devices/sign-out", { handle: bobsHandle });
      expect(refused.status).toBe(303);
      expect((await laptop.get("/devices")).body).toContain("That device was already signed out.");
      expect((await bob2.get("/devices")).status).toBe(200);

      const [phoneHandle] = deviceHandlesIn((await laptop.get("/devices")).body);
      expect(phoneHandle).toBeDefined();
      await laptop.submit("/devices", "/devices/sign-out", { handle: phoneHandle as string });
      const page = await laptop.get("/devices");
      expect(page.body).toContain("Signed out that device.");
      expect(deviceRowsIn(page.body)).toBe(1);
      expect((await phone.get("/devices")).location).toBe("/login");
    });

    it("POST /logout destroys the session and clears the cookie", async () => {
      const visitor = client();
      await visitor.signIn("alice", "wonderland");
      const cookie = visitor.cookies.get(SESSION_COOKIE) as string;
      const reply = await visitor.submit("/", "/logout", {});
      expect(reply.status).toBe(303);
      expect(reply.location).toBe("/login?signed-out");
      expect(reply.setCookies).toHaveLength(1);
      expect(reply.setCookies[0]).toMatch(/^__Host-sid=; .*Max-Age=0/);
      expect((await visitor.get("/login?signed-out")).body).toContain("You have signed out.");

      const replay = client();
      replay.cookies.set(SESSION_COOKIE, cookie);
      expect((await replay.get("/devices")).location).toBe("/login");
    });

    it("escapes a hostile cart item and user agent in every page", async () => {
      const hostileItem = `<script>alert("item")</script>'`;
      const hostileAgent = `"><img src=x onerror=alert(1)>`;
      const visitor = client(hostileAgent);
      await visitor.submit("/", "/cart/add", { custom: hostileItem });
      const shop = (await visitor.get("/")).body;
      expect(shop).not.toContain("<script>");
      expect(shop).toContain("&lt;script&gt;alert(&quot;item&quot;)&lt;/script&gt;&#39;");
      // Once in the flash message, once in the cart.
      expect(shop.match(/&lt;script&gt;alert/g)).toHaveLength(2);

      await visitor.signIn("alice", "wonderland");
      const other = client("Laptop browser/1.0");
      await other.signIn("alice", "wonderland");
      const devices = (await other.get("/devices")).body;
      expect(devices).not.toContain("<img");
      expect(devices).toContain("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    });

    it("answers 404 for unknown paths, 405 for wrong methods, 413 and 415 for bad forms", async () => {
      const visitor = client();
      expect((await visitor.get("/nope")).status).toBe(404);
      const wrongMethod = await visitor.post("/devices", {});
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get("allow")).toBe("GET, HEAD");
      const token = await visitor.csrfToken("/");
      const huge = await visitor.post("/cart/add", { custom: "x".repeat(10_000), _csrf: token });
      expect(huge.status).toBe(413);
      const json = await visitor.request(
        "POST",
        "/cart/add",
        { product: "mug", _csrf: token },
        { "Content-Type": "application/json" },
      );
      expect(json.status).toBe(415);
      expect((await visitor.get("/")).body).toContain("Your cart is empty.");
    });
  });
}
