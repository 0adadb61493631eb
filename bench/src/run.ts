import { openServices, subjectsFor } from "./backends.js";
import { readConfig, wants } from "./config.js";
import { type CoreCpuResult, measureCoreCpu } from "./core-cpu.js";
import { benchHttp } from "./http.js";
import { machineInfo } from "./machine.js";
import { checkTargets, emit, type HttpResult, type StoreResult } from "./report.js";
import { benchSubject } from "./store-bench.js";
import { benchTelemetry, measureTelemetryCpu } from "./telemetry.js";

const config = readConfig(process.argv.slice(2), process.env);
const started = Date.now();
emit({ type: "meta", mode: config.quick ? "quick" : "full", ...(await machineInfo(config)) });

const core: CoreCpuResult[] = [];
if (wants(config, "core")) {
  for (const result of await measureCoreCpu(config.coreIterations)) {
    emit({ type: "core-cpu", ...result });
    core.push(result);
  }
}

const services = await openServices(config.redisUrl, config.databaseUrl);
const store: StoreResult[] = [];
const http: HttpResult[] = [];
try {
  for (const backend of ["memory", "sqlite", "redis", "postgres"] as const) {
    if (!wants(config, backend)) continue;
    for (const factory of subjectsFor(services, backend)) {
      store.push(...(await benchSubject(factory, config)));
    }
  }
  if (wants(config, "http")) http.push(...(await benchHttp(config, services)));
  if (wants(config, "telemetry")) {
    await measureTelemetryCpu(config.coreIterations);
    http.push(...(await benchTelemetry(config)));
  }
} finally {
  await services.close();
}

for (const target of checkTargets(store, http, core)) emit(target);
console.error(`# done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
// Drivers and peer stores may hold sockets or timers a while after close: the run is over.
process.exit(0);
