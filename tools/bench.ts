/**
 * `npm run bench`: the performance budget, measured. Prints a table and writes the numbers as
 * JSON. A benchmark, not a test: it reports what it measured and marks each budget ok or OVER,
 * and exits 0 either way (1 only when a measurement itself failed).
 *
 *   npm run bench
 *   npm run bench -- --out docs/bench.json --test-time
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError, intOption, optionsOrExitCode, parseOptions, runCli } from "./cli-args";
import {
  measureBundles,
  measureSandbox,
  measureStackEvaluation,
  measureTestTime,
  type BundleResult,
  type SandboxResult,
  type StackEvalResult,
  type TestTimeResult,
} from "./bench-measure";
import { BUDGET, verdict } from "./bench-stats";

export const DEFAULT_OUT = ".build/bench.json";
export const DEFAULT_SPAWNS = 20;
const STACKS = ["region1", "region2"];

export const USAGE = `Usage: npm run bench -- [--out <file>] [--spawns <n>] [--repeats <n>] [--test-time]

Measures, on this machine:
  - each handler's bundle (minified, AWS SDK included) and its module initialisation in a fresh
    Node.js process (median of --spawns, default ${DEFAULT_SPAWNS}), budgets ${BUDGET.bundleKiB} KiB and ${BUDGET.initMs} ms;
  - the sandbox API's overhead over a direct DynamoDB Local call (GET /kv/{key} through a
    region's API and through the global endpoint, vs. GetItem), 300 sequential calls each;
  - stack evaluation under the mocks (npm run plan's engine), first and median of --repeats (3);
  - with --test-time, the whole npm test (budget ${BUDGET.testSeconds} s on 2 cores) and each file's share.

  --out <file>    JSON results (default ${DEFAULT_OUT})
  --test-time     also run npm test once (minutes); its output goes next to --out
  -h, --help

Exit codes: 0 measured (budgets missed are marked OVER), 2 usage error, 1 a measurement failed.`;

export interface BenchOptions {
  readonly out: string;
  readonly spawns: number;
  readonly repeats: number;
  readonly testTime: boolean;
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions | "help" {
  const values = parseOptions(argv, {
    out: { type: "string" },
    spawns: { type: "string" },
    repeats: { type: "string" },
    "test-time": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return "help";
  if (values.out !== undefined && values.out.trim() === "") {
    throw new UsageError("--out needs a file name");
  }
  return {
    out: values.out ?? DEFAULT_OUT,
    spawns: intOption("spawns", values.spawns, 1, 200) ?? DEFAULT_SPAWNS,
    repeats: intOption("repeats", values.repeats, 1, 20) ?? 3,
    testTime: values["test-time"] ?? false,
  };
}

export interface BenchResults {
  readonly measuredAt: string;
  readonly machine: { cpus: number; node: string; loadAverage: number[] };
  readonly budget: typeof BUDGET;
  readonly bundles: BundleResult[];
  readonly sandbox: SandboxResult | { error: string };
  readonly stackEvaluation: { loadMs: number; results: StackEvalResult[] } | { error: string };
  readonly npmTest?: TestTimeResult;
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

function sandboxLines(s: SandboxResult | { error: string }): string[] {
  if ("error" in s) return [`sandbox overhead: not measured (${s.error})`];
  return [
    "kv read                       median ms   p95 ms   x direct",
    `direct GetItem (DynamoDB Local) ${pad(s.direct.medianMs.toFixed(2), 7)}  ${pad(s.direct.p95Ms.toFixed(2), 7)}       1.00`,
    `regional API GET /kv/{key}      ${pad(s.regional.medianMs.toFixed(2), 7)}  ${pad(s.regional.p95Ms.toFixed(2), 7)}   ${pad(s.regionalRatio.toFixed(2), 8)}`,
    `global endpoint GET /kv/{key}   ${pad(s.global.medianMs.toFixed(2), 7)}  ${pad(s.global.p95Ms.toFixed(2), 7)}   ${pad(s.globalRatio.toFixed(2), 8)}`,
  ];
}

function stackLines(
  e: { loadMs: number; results: StackEvalResult[] } | { error: string },
): string[] {
  if ("error" in e) return [`stack evaluation: not measured (${e.error})`];
  return [
    `stack evaluation under mocks (modules loaded in ${e.loadMs} ms)   first ms   median ms`,
    ...e.results.map(
      (x) =>
        `plan ${x.stack} (evaluates ${x.evaluated.join(", ")})`.padEnd(52) +
        `${pad(x.firstMs, 9)}   ${pad(x.medianMs, 9)}`,
    ),
  ];
}

/** The table `npm run bench` prints (also the README's). */
export function formatBench(r: BenchResults): string {
  const lines = [
    `handler      bundle KiB   init ms: median  p95   CPU   budget ${BUDGET.bundleKiB} KiB / ${BUDGET.initMs} ms`,
  ];
  for (const b of r.bundles) {
    const ok = `${verdict(b.kib, BUDGET.bundleKiB)} / ${verdict(b.initMs, BUDGET.initMs)} (CPU ${verdict(b.initCpuMs, BUDGET.initMs)})`;
    lines.push(
      `${b.fn.padEnd(12)} ${pad(b.kib.toFixed(1), 10)}   ${pad(b.initMs.toFixed(1), 14)} ${pad(b.initP95Ms.toFixed(1), 5)} ${pad(b.initCpuMs.toFixed(1), 5)}   ${ok}`,
    );
  }
  lines.push("", ...sandboxLines(r.sandbox), "", ...stackLines(r.stackEvaluation));
  if (r.npmTest) {
    const t = r.npmTest;
    lines.push(
      "",
      `npm test: ${t.wallSeconds} s wall on ${t.cpus} cores (load average ${t.loadAverageAtStart} at start), ` +
        `exit ${t.exitCode}, ${t.passed ?? "?"} passed, ${t.failed ?? "?"} failed, ${t.skipped ?? 0} skipped   ` +
        `budget ${BUDGET.testSeconds} s: ${verdict(t.wallSeconds, BUDGET.testSeconds)}`,
    );
    for (const f of t.files.slice(0, 12))
      lines.push(`  ${pad(f.seconds.toFixed(1), 6)} s  ${f.file}`);
  }
  return lines.join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  const opts = optionsOrExitCode(parseBenchArgs, argv, USAGE);
  if (typeof opts === "number") return opts;
  const log = (line: string) => console.error(line);
  const loadAverage = os.loadavg().map((l) => Number(l.toFixed(2)));
  log(`bundles and module init (${opts.spawns} spawns each)...`);
  const bundles = measureBundles(opts.spawns, log);
  // A failed part (the sandbox not starting on an overloaded machine) is recorded, and the
  // other parts are still measured; the exit code says something failed.
  const failures: string[] = [];
  const attempt = async <T>(
    part: string,
    run: () => Promise<T>,
  ): Promise<T | { error: string }> => {
    try {
      return await run();
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      log(`${part} failed: ${error}`);
      failures.push(part);
      return { error };
    }
  };
  log("sandbox overhead...");
  const sandbox = await attempt("sandbox", () => measureSandbox(log));
  log("stack evaluation...");
  const stackEvaluation = await attempt("stack evaluation", () =>
    measureStackEvaluation(STACKS, opts.repeats),
  );
  fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  let npmTest: TestTimeResult | undefined;
  if (opts.testTime) {
    const logFile = path.join(path.dirname(opts.out), "bench-npm-test.log");
    log(`npm test (output in ${logFile})...`);
    npmTest = await measureTestTime(logFile);
  }
  const results: BenchResults = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version, loadAverage },
    budget: BUDGET,
    bundles,
    sandbox,
    stackEvaluation,
    ...(npmTest ? { npmTest } : {}),
  };
  fs.writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(formatBench(results));
  console.log(`\nwrote ${opts.out}`);
  return failures.length === 0 ? 0 : 1;
}

if (require.main === module) runCli(main);
