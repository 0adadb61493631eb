// A tiny cookie-keeping HTTP client over real sockets (fetch), one per "device".
export interface Reply {
  readonly status: number;
  readonly location: string | null;
  readonly setCookies: string[];
  readonly headers: Headers;
  readonly body: string;
}

export class TestClient {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    readonly userAgent = "demo-test-client",
  ) {}

  /** The `Cookie` header this client sends. */
  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  async request(
    method: "GET" | "POST",
    path: string,
    form?: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const requestHeaders: Record<string, string> = { "User-Agent": this.userAgent, ...headers };
    if (this.cookies.size > 0) requestHeaders.Cookie = this.cookieHeader;
    let body: string | undefined;
    if (form !== undefined) {
      body = new URLSearchParams(form).toString();
      requestHeaders["Content-Type"] ??= "application/x-www-form-urlencoded";
    }
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: requestHeaders,
      redirect: "manual",
      ...(body === undefined ? {} : { body }),
    });
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return {
      status: response.status,
      location: response.headers.get("location"),
      setCookies,
      headers: response.headers,
      body: await response.text(),
    };
  }

  get(path: string): Promise<Reply> {
    return this.request("GET", path);
  }

  post(path: string, form: Record<string, string>): Promise<Reply> {
    return this.request("POST", path, form);
  }

  /** Loads a page and returns the CSRF token of its forms. */
  async csrfToken(path = "/"): Promise<string> {
    const page = await this.get(path);
    if (page.status !== 200) throw new Error(`GET ${path} answered ${page.status}`);
    return csrfTokenIn(page.body);
  }

  /** Posts a form of `path` with the token found on `from`. */
  async submit(from: string, path: string, form: Record<string, string>): Promise<Reply> {
    return this.post(path, { ...form, _csrf: await this.csrfToken(from) });
  }

  /** Signs in through the login form; throws unless it succeeded. */
  async signIn(username = "alice", password = "wonderland"): Promise<Reply> {
    const reply = await this.submit("/login", "/login", { username, password });
    if (reply.status !== 303 || reply.location !== "/") {
      throw new Error(`sign-in failed: ${reply.status} → ${reply.location}`);
    }
    return reply;
  }
}

export function csrfTokenIn(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (match?.[1] === undefined) throw new Error("no CSRF token on the page");
  return match[1];
}

/** Every `name="handle"` value on a devices page. */
export function deviceHandlesIn(html: string): string[] {
  return [...html.matchAll(/name="handle" value="([^"]+)"/g)].map((match) => match[1] as string);
}

/** Number of device rows on a devices page. */
export function deviceRowsIn(html: string): number {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? "";
  return body.match(/<tr[\s>]/g)?.length ?? 0;
}

/** The row of a devices page marked as this device. */
export function currentDeviceRowIn(html: string): string {
  return /<tr class="current">([\s\S]*?)<\/tr>/.exec(html)?.[1] ?? "";
}
