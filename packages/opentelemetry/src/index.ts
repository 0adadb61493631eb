export {
  type SessionTelemetryOptions,
  sessionTelemetry,
  TELEMETRY_SCOPE,
  TelemetryNames,
} from "./telemetry.js";
