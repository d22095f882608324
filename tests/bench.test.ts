/**
 * The arithmetic and the command line of `npm run bench` (the measurements themselves are the
 * benchmark's job, not a test's).
 */
import { expect } from "chai";
import { UsageError } from "../tools/cli-args";
import { DEFAULT_OUT, DEFAULT_SPAWNS, parseBenchArgs } from "../tools/bench";
import { BUDGET, median, parseMochaOutput, quantile, verdict } from "../tools/bench-stats";

describe("bench arithmetic", () => {
  it("takes medians and quantiles by nearest rank, always a measured value", () => {
    expect(median([5, 1, 3])).to.equal(3);
    expect(median([4, 1, 3, 2])).to.equal(2);
    expect(quantile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.95)).to.equal(100);
    expect(quantile([7], 0.95)).to.equal(7);
    expect(() => median([])).to.throw("quantile of no values");
    expect(() => quantile([1], 1.5)).to.throw("within 0..1: got 1.5");
  });

  it("marks a value over its budget OVER and one at the limit ok", () => {
    expect(verdict(BUDGET.bundleKiB, BUDGET.bundleKiB)).to.equal("ok");
    expect(verdict(BUDGET.bundleKiB + 0.1, BUDGET.bundleKiB)).to.equal("OVER");
  });

  it("reads per-file times and the closing counts from the summary reporter's lines", () => {
    const out = [
      "    ✔ something (12ms)",
      "file-time: 61.20 s tests/sandbox.test.ts",
      "file-time: 0.35 s tests/config.test.ts",
      "mocha: 540 passed, 1 failed, 5 skipped",
    ].join("\n");
    expect(parseMochaOutput(out)).to.deep.equal({
      files: [
        { file: "tests/sandbox.test.ts", seconds: 61.2 },
        { file: "tests/config.test.ts", seconds: 0.35 },
      ],
      passed: 540,
      failed: 1,
      skipped: 5,
    });
    expect(parseMochaOutput("mocha: 3 passed, 0 failed")).to.deep.equal({
      files: [],
      passed: 3,
      failed: 0,
      skipped: 0,
    });
    expect(parseMochaOutput("crashed before the end")).to.deep.equal({ files: [] });
  });
});

describe("bench command line", () => {
  it("has defaults and reads its flags", () => {
    expect(parseBenchArgs([])).to.deep.equal({
      out: DEFAULT_OUT,
      spawns: DEFAULT_SPAWNS,
      repeats: 3,
      testTime: false,
    });
    expect(parseBenchArgs(["--out", "docs/b.json", "--spawns", "5", "--test-time"])).to.include({
      out: "docs/b.json",
      spawns: 5,
      testTime: true,
    });
    expect(parseBenchArgs(["-h"])).to.equal("help");
  });

  for (const [argv, message] of [
    [["--spawns", "0"], "--spawns must be within 1..200: got 0"],
    [["--spawns", "x"], "--spawns must be a whole number: got x"],
    [["--out", " "], "--out needs a file name"],
    [["--fast"], "Unknown option '--fast'"],
  ] as const) {
    it(`refuses ${argv.join(" ")}`, () => {
      expect(() => parseBenchArgs(argv)).to.throw(UsageError, message);
    });
  }
});
