/**
 * How `npm run drill` prints while it runs: setup steps as lines, and progress once a second (on
 * one rewritten line in a terminal, every 5 s otherwise). The report itself is report-text.ts.
 */
import type { Progress } from "../local/drill/plan";

/** One progress line: time, fault, operations so far, and who served the last 5 s. */
export function progressLine(p: Progress): string {
  const t = `${Math.round(p.elapsedMs / 1000)}`.padStart(3);
  const fault = p.faultInjected
    ? "fault injected"
    : `fault in ${Math.max(0, Math.ceil((p.faultAtMs - p.elapsedMs) / 1000))} s`;
  const served = Object.entries(p.recentByRegion)
    .map(([r, n]) => `${r} ${n}`)
    .join(", ");
  return `[${t}/${p.durationMs / 1000} s] ${fault} | ops ${p.ops}: ${p.ok} ok, ${p.failed} failed, ${p.refused} refused, ${p.staleReads} stale | acked twice ${p.ackedTwice} | last 5 s: ${served}, failed ${p.recentFailed}`;
}

/** What the drill prints to: `out` for whole lines, `progress` for the progress line. */
export interface DrillOutput {
  readonly out: (line: string) => void;
  readonly progress: (p: Progress) => void;
}

/** Output to the process's stdout, as a terminal or as a log. */
export function consoleOutput(): DrillOutput {
  const tty = process.stdout.isTTY === true;
  let lastPrinted = 0;
  const progress = (p: Progress): void => {
    const line = progressLine(p);
    if (tty)
      process.stdout.write(
        `\r${line.slice(0, (process.stdout.columns ?? 120) - 1).padEnd(Math.min(line.length, (process.stdout.columns ?? 120) - 1))}`,
      );
    else if (p.elapsedMs - lastPrinted >= 5_000) {
      lastPrinted = p.elapsedMs;
      console.log(line);
    }
  };
  const out = (line: string): void => {
    if (tty) process.stdout.write("\r\x1b[K");
    console.log(line);
  };
  return { out, progress };
}
