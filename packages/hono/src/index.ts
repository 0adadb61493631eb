export {
  type SessionMiddlewareOptions,
  type SessionVariables,
  sessionMiddleware,
} from "./middleware.js";
