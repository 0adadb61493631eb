/**
 * `@sessionkit/express-session`: any sessionkit store as an express-session
 * `Store`, built with {@link createExpressSessionStore}.
 *
 * @packageDocumentation
 */
export {
  type AllCallback,
  createExpressSessionStore,
  type DoneCallback,
  type ExpressSessionStore,
  type GetCallback,
  type LengthCallback,
} from "./express-session-store.js";
export type { ExpressSessionStoreOptions } from "./options.js";
