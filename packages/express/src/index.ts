export {
  type RegisteredSession,
  type SessionAdapterOptions,
  type SessionMiddleware,
  type SessionRegister,
  session,
} from "./middleware.js";
export { type ErrorMiddleware, sessionErrors } from "./session-errors.js";
