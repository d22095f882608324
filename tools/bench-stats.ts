/**
 * The arithmetic of `npm run bench`, kept pure so tests can check it: order statistics, the
 * budgets the measurements are held to, and the per-file lines the mocha summary reporter prints.
 */

/** The performance budget (issue 10): each limit, in the unit its measurement is reported in. */
export const BUDGET = {
  /** Minified bundle of each handler, the AWS SDK included. */
  bundleKiB: 250,
  /** Module initialisation of each handler bundle in a fresh Node.js process (median). */
  initMs: 60,
  /** Wall time of the whole `npm test` on 2 cores. */
  testSeconds: 120,
} as const;

/** The q-quantile (0..1) of `values` by nearest rank; throws on an empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error("quantile of no values");
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile must be within 0..1: got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] as number;
}

/** The median (lower middle value for an even count, so it is always a measured value). */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Rounds to `digits` decimals for JSON and tables. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** One line of the summary reporter's per-file output: `file-time: 12.34 s tests/x.test.ts`. */
export interface FileTime {
  readonly file: string;
  readonly seconds: number;
}

const FILE_TIME = /^file-time: (\d+(?:\.\d+)?) s (\S.*)$/;
const SUMMARY = /^mocha: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/;

/** The per-file times and the closing counts in a mocha run's output (reporter lines only). */
export function parseMochaOutput(output: string): {
  files: FileTime[];
  passed?: number;
  failed?: number;
  skipped?: number;
} {
  const files: FileTime[] = [];
  let summary: RegExpExecArray | null = null;
  for (const line of output.split("\n")) {
    const text = line.trimEnd();
    const file = FILE_TIME.exec(text);
    if (file) files.push({ file: file[2] as string, seconds: Number(file[1]) });
    summary = SUMMARY.exec(text) ?? summary;
  }
  if (!summary) return { files };
  return {
    files,
    passed: Number(summary[1]),
    failed: Number(summary[2]),
    skipped: Number(summary[3] ?? 0),
  };
}

/** "ok" when `value` is within `limit`, else "OVER" (how the table marks a missed budget). */
export function verdict(value: number, limit: number): "ok" | "OVER" {
  return value <= limit ? "ok" : "OVER";
}
