export {
  type KoaSessionManager,
  type KoaSessionOptions,
  type KoaSessions,
  type ResolvedKoaSessions,
  session,
} from "./middleware.js";
