import { expect } from "vitest";

/** A tiny browser: keeps the cookies an app sets, sends them back. */
export class Client {
  readonly cookies = new Map<string, string>();
  last: Response | undefined;

  constructor(readonly baseUrl: string) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  async request(method: "GET" | "POST", path: string, cookieHeader?: string): Promise<Response> {
    const header = cookieHeader ?? this.cookieHeader;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: header === "" ? {} : { cookie: header },
    });
    for (const setCookie of response.headers.getSetCookie()) {
      const pair = setCookie.slice(
        0,
        setCookie.indexOf(";") === -1 ? undefined : setCookie.indexOf(";"),
      );
      const name = pair.slice(0, pair.indexOf("="));
      const value = pair.slice(pair.indexOf("=") + 1);
      if (/;\s*Max-Age=0/i.test(setCookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    this.last = response;
    return response;
  }

  async json<T = Record<string, unknown>>(method: "GET" | "POST", path: string): Promise<T> {
    const response = await this.request(method, path);
    expect(response.status, `${method} ${path}`).toBe(200);
    return (await response.json()) as T;
  }
}
