import type { RequestInput } from "./types.js";

/**
 * A request header: from a Node header record, Fetch `Headers`, or a
 * `get()`-able object. The request's own `headers` come first: Express's
 * `req.get()` reads the same record, through a longer way.
 */
export function readHeader(request: RequestInput, name: string): string | undefined {
  const headers = (request as { headers?: unknown }).headers;
  if (headers !== null && typeof headers === "object") {
    if (typeof (headers as { get?: unknown }).get === "function") {
      return (headers as { get(name: string): string | null }).get(name) ?? undefined;
    }
    const value = (headers as Record<string, string | readonly string[] | undefined>)[
      name.toLowerCase()
    ];
    if (Array.isArray(value)) return name.toLowerCase() === "cookie" ? value.join("; ") : value[0];
    return typeof value === "string" ? value : undefined;
  }
  if (typeof (request as { get?: unknown }).get === "function") {
    return (request as { get(name: string): string | null }).get(name) ?? undefined;
  }
  return undefined;
}

/** A query parameter of the request URL, for the opt-in query id source. */
export function readQuery(request: RequestInput, name: string): string | undefined {
  const url = (request as { url?: unknown }).url;
  if (typeof url !== "string" || url.length > 16_384) return undefined;
  const question = url.indexOf("?");
  if (question === -1) return undefined;
  const hash = url.indexOf("#", question);
  return (
    new URLSearchParams(url.slice(question + 1, hash === -1 ? undefined : hash)).get(name) ??
    undefined
  );
}
