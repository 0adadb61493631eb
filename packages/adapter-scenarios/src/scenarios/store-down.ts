// A store whose server is down: the request fails closed, bare, reported once.
import { expect, it } from "vitest";
import { createContext } from "../app.js";
import { Client } from "../client.js";
import { codesOf, type ScenarioHarness, STACK_OR_DETAILS } from "../harness.js";

/** The down-store scenario, for store cases that can be down. */
export function storeDownScenarios(h: ScenarioHarness): void {
  const createDown = h.storeCase.createDown;
  if (createDown === undefined) return;
  it("a down store gives 503 with no stack trace and no session cookie, reported once to onError (A30, A39)", async () => {
    const down = await createDown();
    const downContext = createContext(down);
    const downApp = await h.startApp(downContext);
    try {
      const response = await new Client(downApp.url).request("POST", "/cart?item=apple");
      expect(response.status).toBe(503);
      const body = await response.text();
      expect(body).not.toMatch(STACK_OR_DETAILS);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(codesOf(downContext.errors)).toEqual([
        expect.stringMatching(/^STORE_(UNAVAILABLE|TIMEOUT)$/),
      ]);
    } finally {
      await downApp.close();
      await down.close?.().catch(() => {});
    }
  });
}
