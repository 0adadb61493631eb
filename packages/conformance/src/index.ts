export { conformanceGroups, describeStoreConformance } from "./describe.js";
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
export { argumentsGroup } from "./groups/arguments.js";
export { basicGroup } from "./groups/basic.js";
export { closedGroup } from "./groups/closed.js";
export { compareAndSetGroup } from "./groups/compare-and-set.js";
export { concurrencyGroup } from "./groups/concurrency.js";
export { expiryGroup } from "./groups/expiry.js";
export { gcGroup } from "./groups/gc.js";
export { listingGroup } from "./groups/listing.js";
export { manifestGroup } from "./groups/manifest.js";
export { renameGroup } from "./groups/rename.js";
export { touchGroup } from "./groups/touch.js";
export { userIndexGroup } from "./groups/user-index.js";
export type {
  ConformanceClock,
  ConformanceContext,
  ConformanceGroup,
  ConformanceOptions,
  StoreInspector,
} from "./options.js";
export { makeRecord, randomKey } from "./records.js";
export {
  dockerAvailable,
  freePort,
  getPostgresUrl,
  getRedisUrl,
  MissingServiceError,
  probeTcp,
  uniqueName,
  waitUntil,
} from "./services.js";
