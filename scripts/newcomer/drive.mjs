// The visit every README example server must pass, used both by the in-repo
// README tests (from source) and by the newcomer test (from the packed
// tarballs): a first visit sets no cookie, a write sets one, the next request
// reads the write back, logout clears the cookie and kills the session on the
// server, so the old cookie no longer finds the cart.

/**
 * @param {string} base e.g. `http://127.0.0.1:3000`
 * @param {{ fetch?: (url: string, init?: RequestInit) => Promise<Response> }} [options]
 * @returns {Promise<{ sessionCookies: string[] }>}
 */
export async function driveCartApp(base, options = {}) {
  const send =
    options.fetch ?? ((url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(15_000) }));
  /** @type {Map<string, string>} */
  const jar = new Map();
  const cookieHeader = (cookies) =>
    [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");

  async function step(what, method, path, body, cookies) {
    const headers = {};
    if (cookies.size > 0) headers.cookie = cookieHeader(cookies);
    if (body !== undefined) headers["content-type"] = "text/plain";
    let response;
    try {
      response = await send(`${base}${path}`, { method, headers, body, redirect: "manual" });
    } catch (error) {
      throw new Error(
        `${what}: ${method} ${path} failed: ${error instanceof Error ? error.message : error}`,
      );
    }
    const text = await response.text();
    if (response.status !== 200)
      throw new Error(
        `${what}: ${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`,
      );
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${what}: ${method} ${path} did not answer JSON: ${text.slice(0, 300)}`);
    }
    const setCookies = response.headers.getSetCookie();
    return { json, setCookies };
  }
  const expectCart = (what, json, expected) => {
    const actual = JSON.stringify(json?.cart);
    if (actual !== JSON.stringify(expected)) {
      throw new Error(
        `${what}: expected cart ${JSON.stringify(expected)}, got ${JSON.stringify(json)}`,
      );
    }
  };
  const remember = (setCookies) => {
    for (const line of setCookies) {
      const pair = line.split(";")[0] ?? "";
      const at = pair.indexOf("=");
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
  };

  const first = await step("first visit", "GET", "/", undefined, jar);
  if (first.setCookies.length !== 0)
    throw new Error(
      `first visit: expected no Set-Cookie (lazy sessions), got ${first.setCookies.join(" | ")}`,
    );
  expectCart("first visit", first.json, []);

  const added = await step("write", "POST", "/cart", "apple", jar);
  if (added.setCookies.length === 0)
    throw new Error("write: expected a session Set-Cookie, got none");
  const sessionCookies = added.setCookies.map((line) => line.slice(0, line.indexOf("=")));
  remember(added.setCookies);
  expectCart("write", added.json, ["apple"]);

  const again = await step("second write", "POST", "/cart", "pear", jar);
  remember(again.setCookies);
  expectCart("second write", again.json, ["apple", "pear"]);

  const read = await step("read back", "GET", "/", undefined, jar);
  expectCart("read back", read.json, ["apple", "pear"]);

  const before = new Map(jar);
  const out = await step("logout", "POST", "/logout", undefined, jar);
  for (const name of sessionCookies) {
    const cleared = out.setCookies.find(
      (line) =>
        line.startsWith(`${name}=`) &&
        (/;\s*max-age=0/i.test(line) || /expires=thu, 01 jan 1970/i.test(line)),
    );
    if (cleared === undefined)
      throw new Error(
        `logout: expected Set-Cookie clearing ${name}, got ${out.setCookies.join(" | ") || "none"}`,
      );
  }
  expectCart("logout", out.json, []);

  const stale = await step("old cookie after logout", "GET", "/", undefined, before);
  expectCart("old cookie after logout", stale.json, []);
  return { sessionCookies };
}
