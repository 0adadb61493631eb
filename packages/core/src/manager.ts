import { activeInstrumentation, resolveConfig } from "./config.js";
import { loadState } from "./load.js";
import { objectSlot } from "./object-slot.js";
import { SessionImpl } from "./session.js";
import type { InferSchemaOutput, StandardSchemaV1 } from "./standard-schema.js";
import type { SessionState } from "./state.js";
import type { Session, SessionData, SessionManager, SessionManagerOptions } from "./types.js";
import { destroyUserSessions } from "./user-sessions.js";

export type {
  CommitResult,
  CookieOptions,
  IdSourceOptions,
  InstrumentedOperation,
  OperationDetails,
  RequestInput,
  ResponseHeader,
  Session,
  SessionData,
  SessionEvent,
  SessionInfo,
  SessionInstrumentation,
  SessionManager,
  SessionManagerOptions,
} from "./types.js";

/**
 * Creates a session manager: it reads the session id from the signed cookie
 * (and, only when configured, a header or query parameter), loads the record,
 * hands each request its own copy, and writes back only what changed.
 *
 * @example
 * ```ts
 * import { createSessionManager } from "@sessionkit/core";
 * import { createMemoryStore } from "@sessionkit/store-memory";
 *
 * interface Data { userId: string; cart: string[] }
 *
 * const sessions = createSessionManager<Data>({
 *   store: createMemoryStore(),
 *   secrets: [process.env.SESSION_SECRET as string],
 * });
 *
 * // In a Fetch-style handler:
 * async function handle(request: Request): Promise<Response> {
 *   const session = await sessions.load(request);
 *   session.set("cart", [...(session.get("cart") ?? []), "apple"]);
 *   const { headers } = await session.commit();
 *   const response = new Response("added");
 *   for (const [name, value] of headers) response.headers.append(name, value);
 *   return response;
 * }
 * ```
 */
export function createSessionManager<
  Schema extends StandardSchemaV1<unknown, object>,
  Flash extends object = SessionData,
>(
  options: SessionManagerOptions & { readonly schema: Schema },
): SessionManager<InferSchemaOutput<Schema>, Flash>;
export function createSessionManager<
  Data extends object = SessionData,
  Flash extends object = SessionData,
>(options: SessionManagerOptions): SessionManager<Data, Flash>;
export function createSessionManager<
  Data extends object = SessionData,
  Flash extends object = SessionData,
>(options: SessionManagerOptions): SessionManager<Data, Flash> {
  const config = resolveConfig(options);
  // gorilla's per-request Registry: one session object per request and manager.
  const loaded = objectSlot<Promise<Session<Data, Flash>>>("sessionkit.session");

  return {
    cookieName: config.cookieName,
    store: config.store,
    load(request) {
      if (request === null || typeof request !== "object") {
        return Promise.reject(
          new TypeError("sessions.load(request): pass a Request, Headers or IncomingMessage"),
        );
      }
      let session = loaded.get(request);
      if (session === undefined) {
        const instrumentation = activeInstrumentation(config);
        let state: Promise<SessionState>;
        try {
          state =
            instrumentation === undefined
              ? loadState(config, request)
              : instrumentation.wrap(
                  {
                    kind: "load",
                    operation: "load",
                    store: config.store.name,
                    sessionName: config.cookieName,
                  },
                  (details) =>
                    loadState(config, request).then((loadedState) => {
                      details({ outcome: loadedState.record === undefined ? "none" : "found" });
                      return loadedState;
                    }),
                );
        } catch (error) {
          state = Promise.reject(error);
        }
        session = state.then(
          (state) => new SessionImpl<Data, Flash>(config, state),
          (error: unknown) => {
            // A failed load is not cached: the next call tries again.
            loaded.set(request, undefined);
            throw error;
          },
        );
        loaded.set(request, session);
      }
      return session;
    },
    destroyUserSessions(userId) {
      return destroyUserSessions(config, userId);
    },
  };
}
