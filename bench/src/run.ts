import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { openServices, subjectsFor } from "./backends.js";
import { type ChartRun, frameworkChart } from "./chart.js";
import { readConfig, wants } from "./config.js";
import { type CoreCpuResult, measureCoreCpu } from "./core-cpu.js";
import { benchHttp, configuredLoadGenerator } from "./http.js";
import { measureInProcess } from "./in-process.js";
import { machineInfo, measuredCode } from "./machine.js";
import { pinLoadGenerator } from "./pin.js";
import { clear, note, step } from "./progress.js";
import { measuredCoreSpeed } from "./reference-loop.js";
import {
  emit,
  type HttpResult,
  httpCalibrations,
  httpTargets,
  SERVER_BOUND_SHARE,
  type StoreResult,
  storeTargets,
  uncountedRepetitions,
} from "./report.js";
import { benchSubject } from "./store-bench.js";
import { benchTelemetry, measureTelemetryCpu } from "./telemetry.js";

const config = readConfig(process.argv.slice(2), process.env);
const started = Date.now();
const loadAverage = () => loadavg().map((value) => Number(value.toFixed(2)));
const loadAtStart = loadAverage();
const code = measuredCode();
const pinning = pinLoadGenerator();
note(
  pinning.measuredCpu === undefined
    ? `# not pinned to cores (${pinning.unpinnedBecause}): subjects may run on cores of different speed`
    : `# measured processes on CPU ${pinning.measuredCpu}, the load generator on the others`,
);
note(
  code.measured === "dist"
    ? "# measuring the built packages (dist), as users run them"
    : "# measuring the TypeScript sources (dev-source condition), not what users run",
);
if (code.staleDist.length > 0) {
  note(`# warning: sources changed after the last build of ${code.staleDist.join(", ")}`);
}
const speedAtStart = await measuredCoreSpeed();
note(
  `# the measured core runs the reference loop at ${speedAtStart} ns per iteration: compare runs of one host only at similar figures (BENCHMARKS.md, finding 50)`,
);
const loadGenerator = await configuredLoadGenerator(config);
if (loadGenerator !== undefined) {
  note(`# load generator in its own process on Node ${loadGenerator.version} (--loadgen-node)`);
}
emit({
  type: "meta",
  mode: config.quick ? "quick" : "full",
  ...code,
  httpRepetitions: config.http.repetitions,
  measuredCpu: pinning.measuredCpu ?? null,
  referenceNanosAtStart: speedAtStart,
  loadGeneratorNodeVersion: loadGenerator?.version ?? null,
  ...(await machineInfo(config)),
});

const core: CoreCpuResult[] = [];
if (wants(config, "core")) {
  const results = await measureCoreCpu(config.coreIterations, config.http.repetitions, (phase) =>
    step("core", "1/1", phase),
  );
  for (const result of results) {
    emit({ type: "core-cpu", ...result });
    core.push(result);
  }
}

const services = await openServices(config.redisUrl, config.databaseUrl);
const store: StoreResult[] = [];
const http: HttpResult[] = [];
try {
  const backends = (["memory", "sqlite", "redis", "postgres"] as const).filter((backend) =>
    wants(config, backend),
  );
  for (const [index, backend] of backends.entries()) {
    const factories = subjectsFor(services, backend);
    for (const [subject, factory] of factories.entries()) {
      const position = `${index + 1}/${backends.length} · ${subject + 1}/${factories.length}`;
      store.push(...(await benchSubject(factory, config, position)));
    }
  }
  if (wants(config, "http")) http.push(...(await benchHttp(config, services)));
  if (wants(config, "in-process")) {
    const results = await measureInProcess(
      services,
      config.inProcess,
      (name) => config.comparison === undefined || name.includes(config.comparison),
      (position, detail) => step("in-process", position, detail),
    );
    for (const result of results) emit(result);
  }
  if (wants(config, "telemetry")) {
    step("telemetry", "1/2", "core CPU with and without sessionTelemetry()");
    await measureTelemetryCpu(config.coreIterations);
    step("telemetry", "2/2", "node:http + sessionkit/memory with and without sessionTelemetry()");
    http.push(...(await benchTelemetry(config)));
  }
} finally {
  clear();
  await services.close();
}

const targets = [...storeTargets(store), ...httpTargets(http, core)];
for (const target of targets) emit(target);
const uncounted = uncountedRepetitions(targets);
if (uncounted > 0) {
  note(
    `# ${uncounted} node:http repetition(s) not counted: the async ceiling's server was busy under ${SERVER_BOUND_SHARE * 100} %, so the load generator set its pace${loadGenerator === undefined ? "; --loadgen-node=<a faster Node binary> may keep up (BENCHMARKS.md, finding 49)" : ""}`,
  );
}
for (const calibration of httpCalibrations(http)) emit(calibration);
const loadAtEnd = loadAverage();
const speedAtEnd = await measuredCoreSpeed();
emit({
  type: "meta",
  loadAverageAtStart: loadAtStart,
  loadAverageAtEnd: loadAtEnd,
  referenceNanosAtEnd: speedAtEnd,
});

const charted = http.filter((result) => result.repetitions !== undefined);
if (charted.length > 0) {
  mkdirSync(config.chartsDir, { recursive: true });
  const run: ChartRun = {
    mode: config.quick ? "quick" : "full",
    measured: code.measured,
    date: new Date().toISOString().slice(0, 10),
    repetitions: config.http.repetitions,
    loadAtStart,
    loadAtEnd,
  };
  for (const framework of ["node:http", "express", "fastify"] as const) {
    const results = charted.filter((result) => result.framework === framework);
    if (results.length === 0) continue;
    const file = join(config.chartsDir, `${framework.replace(/\W/g, "")}.svg`);
    writeFileSync(file, frameworkChart(framework, results, run));
    note(`# chart: ${file}`);
  }
}
note(
  `# done in ${((Date.now() - started) / 1000).toFixed(1)} s; load average ${loadAtStart.join(" ")} at start, ${loadAtEnd.join(" ")} at end; reference loop ${speedAtStart} ns at start, ${speedAtEnd} ns at end`,
);
// Drivers and peer stores may hold sockets or timers a while after close: the run is over.
process.exit(0);
