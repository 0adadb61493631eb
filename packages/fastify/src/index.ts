export {
  type FastifySessions,
  type ResolvedFastifySessions,
  type SessionPluginOptions,
  sessionPlugin,
} from "./plugin.js";
