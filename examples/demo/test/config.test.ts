import { describe, expect, it } from "vitest";
import { readConfig } from "../src/config.js";
import { describeUserAgent } from "../src/views.js";

describe("readConfig(env)", () => {
  it("readConfig() refuses to start without SESSION_SECRET when NODE_ENV=production", () => {
    expect(() => readConfig({ NODE_ENV: "production" })).toThrow(/SESSION_SECRET is required/);
    expect(() => readConfig({ NODE_ENV: "production", SESSION_SECRET: "" })).toThrow(
      /SESSION_SECRET is required/,
    );
  });

  it("readConfig() generates a random 32-byte secret in development and says so", () => {
    const first = readConfig({});
    const second = readConfig({ NODE_ENV: "development" });
    expect(first.secretGenerated).toBe(true);
    expect(Buffer.from(first.secret, "base64url")).toHaveLength(32);
    expect(second.secret).not.toBe(first.secret);
  });

  it("readConfig() uses SESSION_SECRET, PORT and SESSION_STORE_URL as given", () => {
    const secret = "Zq4vP9xR2mT7wK1nB6cH3jL8sD5fG0yAbCdEfGh";
    const config = readConfig({
      NODE_ENV: "production",
      SESSION_SECRET: secret,
      PORT: "8080",
      SESSION_STORE_URL: "redis://127.0.0.1:6379",
    });
    expect(config).toEqual({
      secret,
      secretGenerated: false,
      port: 8080,
      storeUrl: "redis://127.0.0.1:6379",
    });
  });

  it("readConfig() defaults PORT to 3000 and the store to SQLite, and rejects a bad PORT", () => {
    expect(readConfig({}).port).toBe(3000);
    expect(readConfig({ SESSION_STORE_URL: "" }).storeUrl).toBeUndefined();
    for (const PORT of ["abc", "-1", "70000", "80.5"]) {
      expect(() => readConfig({ PORT })).toThrow(/PORT must be a number/);
    }
  });
});

describe("describeUserAgent(userAgent)", () => {
  it("describeUserAgent() names common browsers and systems, and falls back", () => {
    expect(
      describeUserAgent(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
      ),
    ).toBe("Safari on iPhone");
    expect(
      describeUserAgent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0",
      ),
    ).toBe("Edge on Windows");
    expect(
      describeUserAgent("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    ).toBe("Firefox on Linux");
    expect(describeUserAgent("curl/8.5.0")).toBe("Unknown browser");
  });
});
