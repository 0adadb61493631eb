import { describe, expect, it } from "vitest";
import { allowedCpus } from "../src/pin.js";

const status = (list: string) =>
  `Name:\tnode\nCpus_allowed:\tff\nCpus_allowed_list:\t${list}\nMems_allowed:\t1\n`;

describe("allowedCpus", () => {
  it("reads ranges and single CPUs, ascending and without repeats", () => {
    expect(allowedCpus(status("0-1"))).toEqual([0, 1]);
    expect(allowedCpus(status("6,2-3,3"))).toEqual([2, 3, 6]);
    expect(allowedCpus(status("5"))).toEqual([5]);
  });

  it("knows no CPUs when the list is missing or malformed", () => {
    expect(allowedCpus("Name:\tnode\n")).toEqual([]);
    expect(allowedCpus(status("0-x"))).toEqual([]);
  });

  it.runIf(process.platform === "linux")("reads this process's own list", () => {
    const cpus = allowedCpus();
    expect(cpus.length).toBeGreaterThan(0);
    expect(cpus.every((cpu) => Number.isInteger(cpu) && cpu >= 0)).toBe(true);
  });
});
