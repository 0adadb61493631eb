// loopTurn, resumeInTurn and defersInTurn (@sessionkit/core/node): under load
// (more than one request arrived in the last turn counted), a request whose
// session loaded within the turn it arrived in continues on that turn's check
// phase; one whose load waited for I/O, or any request of a server that gets
// one request per turn, continues at once.
import { AsyncLocalStorage } from "node:async_hooks";
import { defersInTurn, loopTurn, resumeInTurn } from "@sessionkit/core/node";
import { describe, expect, it } from "vitest";
import { afterTurnWith } from "./helpers.js";

const checkPhase = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Ends a turn in which two requests arrived: the next turn is under load. */
const underLoad = () => afterTurnWith(2);
/** Ends a turn in which one request arrived: the next turn is not under load. */
const oneAtATime = () => afterTurnWith(1);

/** What `resumeInTurn` handed its `next` before returning: `undefined` when it deferred. */
function resumedAtOnce(arrived: number, value: number): number | undefined {
  let resumed: number | undefined;
  resumeInTurn(
    arrived,
    (handed) => {
      resumed = handed;
    },
    value,
  );
  return resumed;
}

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
  it("under load, within the turn the request arrived in, continues on its check phase, after the microtasks", async () => {
    await underLoad();
    const arrived = loopTurn();
    const order: string[] = [];
    resumeInTurn(arrived, (value) => order.push(`resumed with ${value}`), 1);
    order.push("returned");
    await Promise.resolve();
    order.push("microtasks ran");
    await checkPhase();
    expect(order).toEqual(["returned", "microtasks ran", "resumed with 1"]);
  });

  it("under load, once that turn is over (the load waited for I/O), continues at once", async () => {
    await underLoad();
    const arrived = loopTurn();
    loopTurn(); // another request of that turn: the load stays on
    await checkPhase();
    expect(resumedAtOnce(arrived, 2)).toBe(2);
  });

  it("when one request arrived in the last turn, continues at once within the turn too", async () => {
    await oneAtATime();
    expect(resumedAtOnce(loopTurn(), 3)).toBe(3);
  });

  it("keeps the async context of the caller (AsyncLocalStorage)", async () => {
    await underLoad();
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

describe("defersInTurn()", () => {
  it("under load, is true while the turn the request arrived in is on, after its microtasks too, and false once it is over", async () => {
    await underLoad();
    const arrived = loopTurn();
    loopTurn(); // another request of that turn: the load stays on
    expect(defersInTurn(arrived)).toBe(true);
    await Promise.resolve();
    expect(defersInTurn(arrived)).toBe(true);
    await checkPhase();
    expect(defersInTurn(loopTurn())).toBe(true);
    expect(defersInTurn(arrived)).toBe(false);
  });

  it("is false within the turn when one request arrived in the last turn counted, and true again once two did", async () => {
    await oneAtATime();
    expect(defersInTurn(loopTurn())).toBe(false);
    loopTurn(); // a second request arrives in this turn: the next one is under load
    await checkPhase();
    expect(defersInTurn(loopTurn())).toBe(true);
  });
});
