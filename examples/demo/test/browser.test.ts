// End to end in a real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SessionStore } from "@sessionkit/core";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type DemoApp } from "../src/app.js";
import { openStore } from "../src/store.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const LAPTOP_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
const PHONE_AGENT =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

describe("demo in headless Chromium", () => {
  let dir: string;
  let store: SessionStore;
  let app: DemoApp;
  let baseUrl: string;
  let launched: Browser | undefined;
  const errors: unknown[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sessionkit-demo-e2e-"));
    store = await openStore(`sqlite:${join(dir, "sessions.db")}`);
    app = createApp({
      store,
      secret: randomBytes(32).toString("base64url"),
      onError: (error) => errors.push(error),
    });
    baseUrl = await app.listen();
  });

  afterAll(async () => {
    await launched?.close();
    await app?.close();
    await store?.close?.();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(context: BrowserContext, remember = false): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${baseUrl}/login`);
    await page.fill("#username", "alice");
    await page.fill("#password", "wonderland");
    if (remember) await page.check('input[name="remember"]');
    await Promise.all([page.waitForURL(`${baseUrl}/`), page.click("form.login button")]);
    expect(await page.textContent(".who")).toContain("Alice");
    return page;
  }

  it("log out everywhere else signs the other browser out on its next page load", async () => {
    // Never skipped: a missing browser fails this test with how to install it.
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing, so the end-to-end test cannot run. ` +
          "Install Debian's Chromium: apt-get update && apt-get install -y chromium",
      );
    }
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    launched = browser;
    const laptop = await browser.newContext({
      userAgent: LAPTOP_AGENT,
      viewport: { width: 1100, height: 720 },
    });
    const phone = await browser.newContext({
      userAgent: PHONE_AGENT,
      viewport: { width: 1100, height: 720 },
    });

    const laptopPage = await signIn(laptop);
    // A cart item added through the real form, so the session carries data.
    await Promise.all([
      laptopPage.waitForURL(`${baseUrl}/`),
      laptopPage.click('form:has(input[value="beans"]) button'),
    ]);
    expect(await laptopPage.textContent(".cart")).toContain("Coffee beans, 250 g");
    // The phone ticks "Remember me"; the laptop does not.
    const signedInAt = Date.now() / 1000;
    const phonePage = await signIn(phone, true);

    // The cookie Chromium really stored from http://localhost: __Host- and Secure are accepted.
    for (const context of [laptop, phone]) {
      const cookies = await context.cookies(baseUrl);
      expect(cookies).toHaveLength(1);
      expect(cookies[0]).toMatchObject({
        name: "__Host-sid",
        domain: "localhost",
        path: "/",
        httpOnly: true,
        secure: true,
        sameSite: "Lax",
      });
    }
    // The laptop's is a browser-session cookie; the phone's lasts 30 days.
    expect((await laptop.cookies(baseUrl))[0]?.expires).toBe(-1);
    const phoneExpires = (await phone.cookies(baseUrl))[0]?.expires ?? 0;
    expect(phoneExpires).toBeGreaterThanOrEqual(signedInAt + 30 * 24 * 3600 - 5);
    expect(phoneExpires).toBeLessThanOrEqual(Date.now() / 1000 + 30 * 24 * 3600 + 5);

    await laptopPage.goto(`${baseUrl}/devices`);
    const rows = laptopPage.locator("table.devices tbody tr");
    expect(await rows.count()).toBe(2);
    expect(await laptopPage.textContent("tr.current")).toContain("this device");
    expect(await laptopPage.textContent("tr.current")).toContain("Chrome on Linux");
    expect(await laptopPage.textContent("tr.current")).toContain("X11; Linux x86_64");
    expect(await rows.first().getAttribute("class")).toBe("current");
    expect(await laptopPage.textContent("table.devices")).toContain("Safari on iPhone");
    mkdirSync(ARTIFACTS, { recursive: true });
    await laptopPage.screenshot({ path: join(ARTIFACTS, "devices.png"), fullPage: true });

    await Promise.all([
      laptopPage.waitForURL(`${baseUrl}/devices`),
      laptopPage.click("text=Log out everywhere else"),
    ]);
    expect(await laptopPage.textContent(".flash.info")).toBe("Signed out 1 other device.");
    expect(await rows.count()).toBe(1);

    // The phone still shows its old page; its next load finds the session gone.
    await phonePage.goto(`${baseUrl}/devices`);
    expect(new URL(phonePage.url()).pathname).toBe("/login");
    expect(await phonePage.textContent("h1")).toBe("Sign in");
    expect(await phonePage.textContent(".flash.error")).toBe("Sign in to see your devices.");
    expect(await phonePage.locator(".who").count()).toBe(0);

    // The laptop is still signed in, cart included.
    await laptopPage.goto(`${baseUrl}/`);
    expect(await laptopPage.textContent(".who")).toContain("Alice");
    expect(await laptopPage.textContent(".cart")).toContain("Coffee beans, 250 g");

    await laptop.close();
    await phone.close();
    expect(errors).toEqual([]);
  }, 60_000);
});
