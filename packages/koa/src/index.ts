export {
  type KoaSessionManager,
  type KoaSessions,
  type SessionAdapterOptions,
  session,
} from "./middleware.js";
