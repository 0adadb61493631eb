export {
  type FailureOptions,
  type FaultInjectionOptions,
  failureGroup,
  faultInjectionGroup,
  type StoreFault,
  timedFailure,
  untilRecovered,
} from "./failure.js";
export { type Fault, FaultProxy } from "./fault-proxy.js";
export {
  dockerAvailable,
  getPostgresUrl,
  getRedisUrl,
  MissingServiceError,
  probeTcp,
  uniqueName,
} from "./services.js";
export {
  basicGroup,
  type ConformanceGroup,
  type ConformanceOptions,
  compareAndSetGroup,
  concurrencyGroup,
  conformanceGroups,
  describeStoreConformance,
  expiryGroup,
  gcGroup,
  listingGroup,
  makeRecord,
  manifestGroup,
  randomKey,
  renameGroup,
  type StoreInspector,
  touchGroup,
  userIndexGroup,
} from "./suite.js";
