export {
  type AllCallback,
  createExpressSessionStore,
  type DoneCallback,
  ExpressSessionStore,
  type ExpressSessionStoreOptions,
  type GetCallback,
  type LengthCallback,
} from "./express-session-store.js";
