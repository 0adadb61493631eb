// loopTurn and resumeInTurn (@sessionkit/core/node): a request whose session
// loaded within the turn it arrived in continues on that turn's check phase;
// one whose load waited for I/O continues at once.
import { AsyncLocalStorage } from "node:async_hooks";
import { loopTurn, resumeInTurn, stillInTurn } from "@sessionkit/core/node";
import { describe, expect, it } from "vitest";

const checkPhase = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("loopTurn()", () => {
  it("answers the same number within one turn and a larger one in the next", async () => {
    const first = loopTurn();
    expect(loopTurn()).toBe(first);
    await Promise.resolve();
    expect(loopTurn()).toBe(first);
    await checkPhase();
    expect(loopTurn()).toBeGreaterThan(first);
  });
});

describe("resumeInTurn()", () => {
  it("within the turn the request arrived in, continues on its check phase, after the microtasks", async () => {
    const arrived = loopTurn();
    const order: string[] = [];
    resumeInTurn(arrived, (value) => order.push(`resumed with ${value}`), 1);
    order.push("returned");
    await Promise.resolve();
    order.push("microtasks ran");
    await checkPhase();
    expect(order).toEqual(["returned", "microtasks ran", "resumed with 1"]);
  });

  it("once that turn is over (the load waited for I/O), continues at once", async () => {
    const arrived = loopTurn();
    await checkPhase();
    let resumed: number | undefined;
    resumeInTurn(
      arrived,
      (value) => {
        resumed = value;
      },
      2,
    );
    expect(resumed).toBe(2);
  });

  it("keeps the async context of the caller (AsyncLocalStorage)", async () => {
    const context = new AsyncLocalStorage<string>();
    const seen = await context.run(
      "request 7",
      () =>
        new Promise<string | undefined>((resolve) => {
          const arrived = loopTurn();
          void Promise.resolve().then(() =>
            resumeInTurn(arrived, () => resolve(context.getStore()), 0),
          );
        }),
    );
    expect(seen).toBe("request 7");
  });
});

describe("stillInTurn()", () => {
  it("is true while the turn the request arrived in is on, after its microtasks too, and false once it is over", async () => {
    const arrived = loopTurn();
    expect(stillInTurn(arrived)).toBe(true);
    await Promise.resolve();
    expect(stillInTurn(arrived)).toBe(true);
    await checkPhase();
    expect(stillInTurn(arrived)).toBe(false);
  });
});
