/**
 * Operation latency as CloudWatch embedded metric format, through Powertools: the seed's
 * ReadTime/WriteTime with dimension `Region` = `<region>-<region>`, which its dashboard reads.
 */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Deps } from "./runtime";

export type LatencyMetric = "ReadTime" | "WriteTime";

/** The seed's dimension value: the serving region, twice (function region - table region). */
export function regionDimension(region: string): string {
  return `${region}-${region}`;
}

/**
 * Records one latency and flushes it at once. Add and publish run in one synchronous step, so
 * requests interleaving in one process (the sandbox) never mix dimensions; a metrics failure is
 * logged and never fails the request.
 */
export function recordLatency(
  deps: Pick<Deps, "region" | "metrics" | "logger">,
  name: LatencyMetric,
  ms: number,
): void {
  try {
    deps.metrics.addDimension("Region", regionDimension(deps.region));
    deps.metrics.addMetric(name, MetricUnit.Milliseconds, ms);
    deps.metrics.publishStoredMetrics();
  } catch (err) {
    deps.logger.warn("could not record metric", { metric: name, error: String(err) });
  }
}

/** Runs a DynamoDB-bound operation and records its duration, whether it succeeds or fails. */
export async function timed<T>(
  deps: Pick<Deps, "region" | "metrics" | "logger">,
  name: LatencyMetric,
  op: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    return await op();
  } finally {
    recordLatency(deps, name, Math.round(performance.now() - started));
  }
}
