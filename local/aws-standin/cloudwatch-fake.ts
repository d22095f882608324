/**
 * A CloudWatch stand-in for the one query the drill makes: GetMetricData of DynamoDB's
 * `ReplicationLatency`, served from the sandbox replicator's own lag samples. The real
 * @aws-sdk/client-cloudwatch (3.1164) speaks awsJson1_0 (target prefix
 * `GraniteServiceVersion20100801`, awsQueryCompatible), signing name `monitoring`.
 *
 *   const cw = await startCloudWatchFake({ series: (since) => sandbox.replicator.lagSeries(since),
 *     tables: sandbox.tables, regions, credentials: [c] });
 *   new CloudWatchClient({ region: "us-east-1", endpoint: cw.endpoint, credentials: c })
 *
 * As in AWS, the metric lives in the region that sends the changes (the request's signing
 * region) with dimensions `TableName` and `ReceivingRegion`; values in milliseconds. Supported:
 * `MetricStat` queries on namespace `AWS/DynamoDB`, metric `ReplicationLatency`, stats Average,
 * Minimum, Maximum, Sum, SampleCount and pNN, any Period >= 1 s, ScanBy (default
 * TimestampDescending). Other metrics answer an empty, Complete series (CloudWatch's answer for a
 * metric with no data); `Expression` queries are a ValidationException (not supported here).
 */
import type { TableKey } from "../../functions/tables";
import { awsJsonHandler, validation } from "./aws-protocol";
import { listen } from "./http-util";
import { SignatureVerifier, type StandInCredentials } from "./sigv4-verify";

export const CLOUDWATCH_SERVICE = "monitoring";

export interface LagSeries {
  readonly from: string;
  readonly to: string;
  readonly table: TableKey;
  readonly samples: readonly { readonly at: number; readonly ms: number }[];
}

export interface CloudWatchFakeOptions {
  /** Lag samples since a time (epoch ms): `sandbox.replicator.lagSeries`. */
  readonly series: (sinceMs: number) => readonly LagSeries[];
  /** Table key -> the table's name (`sandbox.tables`). */
  readonly tables: Readonly<Record<TableKey, string>>;
  readonly regions: readonly string[];
  readonly credentials: readonly StandInCredentials[];
  readonly onError?: (message: string, err: unknown) => void;
}

export interface CloudWatchFake {
  readonly endpoint: string;
  /** GetMetricData calls answered. */
  calls(): number;
  stop(): Promise<void>;
}

/** One statistic over a bucket of values (non-empty). */
export function statistic(stat: string, values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  switch (stat) {
    case "Average":
      return sum / sorted.length;
    case "Minimum":
      return sorted[0] as number;
    case "Maximum":
      return sorted[sorted.length - 1] as number;
    case "Sum":
      return sum;
    case "SampleCount":
      return sorted.length;
  }
  const p = /^p(\d{1,2}(?:\.\d+)?)$/.exec(stat);
  if (!p)
    throw validation(
      `unsupported statistic ${stat}: use Average, Minimum, Maximum, Sum, SampleCount or pNN`,
    );
  const rank = Math.ceil((Number(p[1]) / 100) * sorted.length) - 1;
  return sorted[Math.min(Math.max(rank, 0), sorted.length - 1)] as number;
}

function toMs(value: unknown, field: string): number {
  if (typeof value === "number" && Number.isFinite(value)) return value * 1000;
  if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return Date.parse(value);
  throw validation(`${field} must be a timestamp`);
}

interface Query {
  readonly Id: string;
  readonly Label?: string;
  readonly MetricStat?: {
    readonly Metric?: {
      readonly Namespace?: string;
      readonly MetricName?: string;
      readonly Dimensions?: readonly { Name?: string; Value?: string }[];
    };
    readonly Period?: number;
    readonly Stat?: string;
  };
  readonly Expression?: string;
}

export async function startCloudWatchFake(opts: CloudWatchFakeOptions): Promise<CloudWatchFake> {
  const keyOfName = new Map(Object.entries(opts.tables).map(([k, n]) => [n, k as TableKey]));
  let count = 0;

  const getMetricData = async (input: Record<string, unknown>, region: string) => {
    count++;
    const queries = input.MetricDataQueries;
    if (!Array.isArray(queries) || queries.length === 0) {
      throw validation("MetricDataQueries must be a non-empty list");
    }
    const start = toMs(input.StartTime, "StartTime");
    const end = toMs(input.EndTime, "EndTime");
    if (!(end > start)) throw validation("EndTime must be after StartTime");
    const ascending = input.ScanBy === "TimestampAscending";
    const series = opts.series(start);
    const results = (queries as Query[]).map((q) => {
      if (typeof q?.Id !== "string") throw validation("every query needs an Id");
      if (q.Expression !== undefined || q.MetricStat === undefined) {
        throw validation(`query ${q.Id}: only MetricStat queries are supported by the stand-in`);
      }
      const { Metric: metric, Period: period, Stat: stat } = q.MetricStat;
      if (typeof period !== "number" || period < 1)
        throw validation(`query ${q.Id}: Period must be >= 1`);
      if (typeof stat !== "string") throw validation(`query ${q.Id}: Stat is required`);
      const dims = new Map((metric?.Dimensions ?? []).map((d) => [d.Name, d.Value]));
      const label = q.Label ?? metric?.MetricName ?? q.Id;
      const empty = { Id: q.Id, Label: label, Timestamps: [], Values: [], StatusCode: "Complete" };
      if (metric?.Namespace !== "AWS/DynamoDB" || metric.MetricName !== "ReplicationLatency")
        return empty;
      const table = keyOfName.get(dims.get("TableName") ?? "");
      const to = dims.get("ReceivingRegion");
      const samples = series
        .filter((s) => s.from === region && s.to === to && s.table === table)
        .flatMap((s) => s.samples)
        .filter((s) => s.at >= start && s.at < end);
      const buckets = new Map<number, number[]>();
      for (const s of samples) {
        const b = start + Math.floor((s.at - start) / (period * 1000)) * period * 1000;
        const list = buckets.get(b) ?? [];
        list.push(s.ms);
        buckets.set(b, list);
      }
      const times = [...buckets.keys()].sort((a, b) => (ascending ? a - b : b - a));
      return {
        ...empty,
        Timestamps: times.map((t) => t / 1000),
        Values: times.map((t) => statistic(stat, buckets.get(t) as number[])),
      };
    });
    return { MetricDataResults: results, Messages: [] };
  };

  const verifier = new SignatureVerifier({
    credentials: opts.credentials,
    service: CLOUDWATCH_SERVICE,
    regions: opts.regions,
  });
  const handle = awsJsonHandler("GraniteServiceVersion20100801", verifier, {
    GetMetricData: getMetricData,
  });
  const server = await listen("127.0.0.1", 0, handle, opts.onError ?? (() => undefined));
  return { endpoint: server.url, calls: () => count, stop: () => server.stop() };
}
