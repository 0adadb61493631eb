export {
  type SessionAdapterOptions,
  type SessionVariables,
  sessionMiddleware,
} from "./middleware.js";
