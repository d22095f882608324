/**
 * `Deps` for handler tests: a real document client against a DynamoDB Local endpoint, a silent
 * logger, and a metrics recorder the tests can read.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { TableKey } from "../../functions/tables";
import { createDocumentClient, type Deps, type MetricsSink } from "../../functions/runtime";
import { LOCAL_CREDENTIALS } from "../../local/dynamo-local";

export interface RecordedMetric {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** A `MetricsSink` that keeps what was published instead of printing EMF. */
export class MetricsRecorder implements MetricsSink {
  readonly published: RecordedMetric[] = [];
  private dimensions: Record<string, string> = {};
  private pending: Omit<RecordedMetric, "dimensions">[] = [];

  addDimension(name: string, value: string): void {
    this.dimensions[name] = value;
  }
  addMetric(name: string, unit: string, value: number): void {
    this.pending.push({ name, unit, value });
  }
  publishStoredMetrics(): void {
    for (const m of this.pending) this.published.push({ ...m, dimensions: { ...this.dimensions } });
    this.pending = [];
    this.dimensions = {};
  }
}

export interface TestDepsOptions {
  readonly endpoint: string;
  readonly tables: Partial<Record<TableKey, string>>;
  readonly region?: string;
  readonly healthTimeoutMs?: number;
  /** SDK attempts per call. @default 3, as in production */
  readonly maxAttempts?: number;
}

export function testDeps(opts: TestDepsOptions): Deps & { metrics: MetricsRecorder } {
  const region = opts.region ?? "us-east-1";
  return {
    region,
    tables: opts.tables,
    doc: createDocumentClient({
      region,
      endpoint: opts.endpoint,
      credentials: LOCAL_CREDENTIALS,
      ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
    }),
    logger: new Logger({ logLevel: "SILENT" }),
    metrics: new MetricsRecorder(),
    ...(opts.healthTimeoutMs !== undefined ? { healthTimeoutMs: opts.healthTimeoutMs } : {}),
  };
}
