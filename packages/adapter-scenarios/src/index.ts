/**
 * The HTTP scenarios every sessionkit framework adapter must pass, run over
 * real sockets against every store. An adapter's test file calls
 * {@link describeAdapterScenarios} with a function that starts an app
 * implementing the routes below with that framework.
 *
 * Routes (all answer JSON unless said otherwise; query parameters carry the input):
 * - `GET /state` → `{ isNew, userId, data }` of the main session (`data` = `session.toJSON()`)
 * - `POST /login?user=U` → `session.regenerate().setUser(U).set("user", U)`; also sets two
 *   cookies of the app's own, `theme=dark; Path=/` and `lang=en; Path=/`, through the
 *   framework's cookie API → `{ ok: true }`
 * - `POST /cart?item=I` → appends I to `cart` → `{ cart }`
 * - `POST /set?key=K&value=V` → `session.set(K, V)` → `{ ok: true }`
 * - `POST /slow-set?key=K&value=V&gate=G[&commit=handler]` → {@link slowSet}: sets K, waits at
 *   the test-controlled gate G (`context.gates`), and with `commit=handler` commits in the
 *   handler before the adapter does
 * - `POST /logout` → `session.destroy()` → `{ ok: true }`
 * - `POST /logout-others` → `{ destroyed: await session.destroyOtherSessions() }`
 * - `POST /logout-unavailable` → {@link destroyThenUnavailable}: `session.destroy()`, then the
 *   app answers status 503 with `{ error: "unavailable" }` itself, without throwing
 * - `POST /discard?key=K&value=V` → {@link discardChanges}: `session.set(K, V).discard()` →
 *   `{ ok: true }`
 * - `POST /throw` → `session.set("poisoned", true)`, then throws an Error; the app answers 500
 * - `POST /throw-status?status=S&gate=G` (S is 400 or 404) → `await prepareThrow(session,
 *   gates, { status, gate })` (sets `poisoned`, reports at G), then throws an HTTP error of
 *   that status the framework's own way, and the app's error handling answers status S
 *   without details:
 *   - Express: `throw httpError(status)` (forwarded with `next(err)` on Express 4); the app's
 *     error handler answers `err.status` for a 4xx
 *   - Fastify: `throw httpError(status)`; the app's `setErrorHandler` answers
 *     `error.statusCode` for a 4xx
 *   - Hono: `throw new HTTPException(status)`; `app.onError` answers `error.getResponse()`
 *     for an `HTTPException`
 *   - Koa: `ctx.throw(status)`; the app's error middleware answers `err.status` when
 *     `err.expose`
 *   - node:http (`createNodeHandler`): `throw httpError(status)`; it answers a bare 500
 *     (register with `{ thrownClientErrors: 500 }`)
 *   - Fetch (`withSession`): `throw httpError(status)`; the app's outer catch answers its status
 * - `GET /prefs` → `{ theme }` from the second manager's session (`prefs`)
 * - `POST /prefs?theme=T` → `prefs.set("theme", T)` → `{ ok: true }`
 *
 * Every adapter's session middleware gets `onError: context.onError`, so the
 * scenarios can count the session failures it reports.
 *
 * @packageDocumentation
 */
export * from "./app.js";
export * from "./client.js";
export { describeAdapterScenarios } from "./describe.js";
export type { AdapterScenarioOptions } from "./harness.js";
export * from "./routes.js";
export * from "./stores.js";
export { afterTurnWith, TURN_LOADS } from "./turns.js";
