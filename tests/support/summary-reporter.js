// Mocha's spec reporter plus, at the end:
// - one line per suite skipped for a reason ("pending: <suite>: <reason>"), when a hook that
//   skips a suite leaves `pendingReason` on it (the status page suite without a browser);
// - one line per test file with its wall time, slowest first, when MOCHA_FILE_TIMES is set
//   (`npm run bench -- --test-time` reads them to show where `npm test` spends its time);
// - one closing line in the plain form CI tools read:
//   "mocha: N passed, N failed" (", N skipped" when any test is pending).
"use strict";
const Mocha = require("mocha");
const path = require("node:path");

const { EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const reasons = [];
    const fileTimes = new Map();
    const started = new Map();
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (suite.file && suite.parent && suite.parent.root) started.set(suite, performance.now());
    });
    runner.on(EVENT_SUITE_END, (suite) => {
      if (typeof suite.pendingReason === "string") {
        reasons.push(`pending: ${suite.fullTitle()}: ${suite.pendingReason}`);
      }
      const t0 = started.get(suite);
      if (t0 !== undefined) {
        const file = path.relative(process.cwd(), suite.file);
        fileTimes.set(file, (fileTimes.get(file) ?? 0) + (performance.now() - t0));
      }
    });
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      for (const line of reasons) process.stdout.write(`${line}\n`);
      if (process.env.MOCHA_FILE_TIMES) {
        const rows = [...fileTimes].sort((a, b) => b[1] - a[1]);
        for (const [file, ms] of rows) {
          process.stdout.write(`file-time: ${(ms / 1000).toFixed(2)} s ${file}\n`);
        }
      }
      const skipped = pending ? `, ${pending} skipped` : "";
      process.stdout.write(`mocha: ${passes} passed, ${failures} failed${skipped}\n`);
    });
  }
}

module.exports = SummaryReporter;
