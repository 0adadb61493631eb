export {
  type NextCallback,
  type RegisteredSession,
  type SessionMiddleware,
  type SessionMiddlewareOptions,
  type SessionRegister,
  session,
} from "./middleware.js";
