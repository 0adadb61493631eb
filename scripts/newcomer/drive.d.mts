/**
 * Drives a README example server: a first visit sets no cookie, `POST /cart` writes,
 * `GET /` reads back, `POST /logout` clears the cookie and ends the session server-side.
 * Throws an `Error` naming the failed step.
 */
export declare function driveCartApp(
  base: string,
  options?: { fetch?: (url: string, init?: RequestInit) => Promise<Response> },
): Promise<{ sessionCookies: string[] }>;
