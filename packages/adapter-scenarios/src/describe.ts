import { afterAll, beforeAll, describe } from "vitest";
import type { StartApp } from "./app.js";
import { type AdapterScenarioOptions, ScenarioHarness } from "./harness.js";
import { basicScenarios } from "./scenarios/basics.js";
import { commitRuleScenarios } from "./scenarios/commit-rule.js";
import { cookieScenarios } from "./scenarios/cookies.js";
import { raceScenarios } from "./scenarios/races.js";
import { storeDownScenarios } from "./scenarios/store-down.js";
import { storeCases } from "./stores.js";

/**
 * Registers the scenarios for one adapter: for each store, a fresh app, then
 * every scenario over real HTTP.
 *
 * @example
 * ```ts
 * describeAdapterScenarios("Koa 3", async (context) => listen(scenarioApp(Koa, context)));
 * ```
 */
export function describeAdapterScenarios(
  adapter: string,
  startApp: StartApp,
  options: AdapterScenarioOptions = {},
): void {
  const cases = storeCases().filter(
    (c) => options.stores === undefined || options.stores.includes(c.name),
  );
  for (const storeCase of cases) {
    describe(`${adapter} on ${storeCase.name}`, () => {
      const harness = new ScenarioHarness(storeCase, startApp, options);
      beforeAll(() => harness.start());
      afterAll(() => harness.stop());
      basicScenarios(harness);
      cookieScenarios(harness);
      raceScenarios(harness);
      commitRuleScenarios(harness);
      storeDownScenarios(harness);
    });
  }
}
