export {
  type FastifySessions,
  type SessionAdapterOptions,
  type SessionPluginOptions,
  sessionPlugin,
} from "./plugin.js";
