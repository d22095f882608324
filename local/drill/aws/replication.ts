/**
 * Replication of a deployed service, seen two ways: the drill's own write-then-read probes (a
 * `PUT /kv/{key}` in one region, then `GET /kv/{key}` in every other until it is there) and
 * DynamoDB's `ReplicationLatency` metric in CloudWatch, per table and direction.
 */
import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { summarize, type Summary } from "../../stats";
import type { ConvergenceResult, ReplicationObserver, ServiceEndpoints } from "../target";

/** Probe keys expire from the kv table after this long. */
const PROBE_TTL_SECONDS = 3_600;
const POLL_MS = 250;
/** Answers in a row with no response or a 5xx before a probe stops looking in that region. */
const MAX_DOWN = 3;

export interface ProbeSample {
  readonly from: string;
  readonly to: string;
  /** Epoch ms the write was acknowledged. */
  readonly writtenAt: number;
  /** ms from the acknowledgement to the first read that saw it; undefined if never seen. */
  readonly lagMs?: number | undefined;
}

export interface ProbeOptions {
  readonly endpoints: ServiceEndpoints;
  readonly runId: string;
  /** Give up looking for a probe after this long. @default 60000 */
  readonly seenWithinMs?: number;
}

/** Write-then-read probes between every pair of regions. */
export class Prober {
  readonly samples: ProbeSample[] = [];
  private n = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly o: ProbeOptions) {}

  /** Writes one probe in `from`; resolves with a sample per other region once each saw it or gave up. */
  async probe(
    from: string,
    limitMs = this.o.seenWithinMs ?? 60_000,
    regions: readonly string[] = this.o.endpoints.regions,
  ): Promise<ProbeSample[]> {
    const ep = this.o.endpoints;
    const key = `drill-probe-${this.o.runId}-${from}-${++this.n}`;
    const put = await ep.viaRegion(from, {
      method: "PUT",
      path: `/kv/${key}`,
      body: { value: { from }, ttlSeconds: PROBE_TTL_SECONDS },
    });
    if (put.status !== 200) return [];
    const writtenAt = put.startedAt + put.ms;
    const others = regions.filter((r) => r !== from);
    const samples = await Promise.all(
      others.map(async (to): Promise<ProbeSample> => {
        // A region that does not answer (lost, or its API failing) is not polled on.
        for (let down = 0; ;) {
          const r = await ep.viaRegion(to, { method: "GET", path: `/kv/${key}` });
          if (r.status === 200)
            return { from, to, writtenAt, lagMs: Math.max(0, r.startedAt - writtenAt) };
          down = r.status === 0 || r.status >= 500 ? down + 1 : 0;
          if (down >= MAX_DOWN || Date.now() - writtenAt > limitMs) return { from, to, writtenAt };
          await new Promise((res) => setTimeout(res, POLL_MS));
        }
      }),
    );
    this.samples.push(...samples);
    return samples;
  }

  /** Probes from every region every `everyMs` until `stop`. */
  start(everyMs: number): void {
    if (this.timer) return;
    const tick = (): void => {
      for (const r of this.o.endpoints.regions) {
        const p = this.probe(r).catch(() => []);
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      }
    };
    tick();
    this.timer = setInterval(tick, everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.inFlight]);
  }
}

export interface CloudWatchLagOptions {
  /** Source region -> its CloudWatch client. */
  readonly clients: ReadonlyMap<string, CloudWatchClient>;
  /** Region -> table key -> table name (the stacks' tableNames). */
  readonly tableNames: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly now?: () => number;
}

const STATS = ["SampleCount", "Maximum", "p50", "p95", "p99"] as const;

/**
 * `ReplicationLatency` per table and direction since `sinceMs` (GetMetricData in the sending
 * region, dimensions TableName and ReceivingRegion), in one period that covers the whole window,
 * so the percentiles are over the window rather than averages of minutes.
 */
export async function cloudWatchLag(
  o: CloudWatchLagOptions,
  sinceMs: number,
): Promise<Record<string, Summary>> {
  const end = o.now?.() ?? Date.now();
  const start = Math.floor(sinceMs / 60_000) * 60_000;
  const period = Math.max(60, Math.ceil((end - start) / 60_000) * 60);
  const out: Record<string, Summary> = {};
  for (const [source, client] of o.clients) {
    const tables = Object.entries(o.tableNames.get(source) ?? {});
    const series = [...o.clients.keys()]
      .filter((r) => r !== source)
      .flatMap((receiving) => tables.map(([key, name]) => ({ receiving, key, name })));
    if (series.length === 0) continue;
    const queries = series.flatMap((s, i) =>
      STATS.map((stat, j) => ({
        Id: `q${i}_${j}`,
        MetricStat: {
          Metric: {
            Namespace: "AWS/DynamoDB",
            MetricName: "ReplicationLatency",
            Dimensions: [
              { Name: "TableName", Value: s.name },
              { Name: "ReceivingRegion", Value: s.receiving },
            ],
          },
          Period: period,
          Stat: stat,
        },
      })),
    );
    const res = await client.send(
      new GetMetricDataCommand({
        StartTime: new Date(start),
        EndTime: new Date(start + period * 1000),
        MetricDataQueries: queries,
      }),
    );
    const value = new Map<string, number | undefined>();
    for (const r of res.MetricDataResults ?? []) if (r.Id) value.set(r.Id, r.Values?.[0]);
    series.forEach((s, i) => {
      const [count, max, p50, p95, p99] = STATS.map((_, j) => value.get(`q${i}_${j}`));
      if (!count) return;
      const round = (v: number | undefined) => (v === undefined ? undefined : Math.round(v));
      out[`${s.key} ${source}>${s.receiving} (CloudWatch)`] = {
        count: Math.round(count),
        p50: round(p50),
        p95: round(p95),
        p99: round(p99),
        max: round(max),
      };
    });
  }
  return out;
}

/** Probe lags since `sinceMs`, one summary per direction. */
export function probeLag(
  samples: readonly ProbeSample[],
  sinceMs: number,
): Record<string, Summary> {
  const out: Record<string, Summary> = {};
  const byDirection = new Map<string, number[]>();
  for (const s of samples) {
    if (s.writtenAt < sinceMs || s.lagMs === undefined) continue;
    const k = `probe ${s.from}>${s.to}`;
    byDirection.set(k, [...(byDirection.get(k) ?? []), s.lagMs]);
  }
  for (const [k, v] of byDirection) out[k] = summarize(v);
  return out;
}

export interface AwsReplicationOptions {
  readonly endpoints: ServiceEndpoints;
  readonly prober: Prober;
  readonly cloudWatch: CloudWatchLagOptions;
  /** Told when CloudWatch cannot be read (the probes still count). */
  readonly onNote?: (line: string) => void;
}

export function awsReplication(o: AwsReplicationOptions): ReplicationObserver {
  return {
    async lag(sinceMs: number): Promise<Record<string, Summary>> {
      let cw: Record<string, Summary> = {};
      try {
        cw = await cloudWatchLag(o.cloudWatch, sinceMs);
      } catch (err) {
        o.onNote?.(`CloudWatch ReplicationLatency could not be read: ${(err as Error).message}`);
      }
      return { ...probeLag(o.prober.samples, sinceMs), ...cw };
    },
    /**
     * Converged when a probe written now in every region that takes writes is read back in
     * every other region that answers: no write of the run can still be in flight behind it
     * (DynamoDB replicates each table's changes in order per item only, so this is the
     * drill's best evidence, not a guarantee).
     */
    async waitConverged(limitMs: number): Promise<ConvergenceResult> {
      const started = Date.now();
      // Regions whose API answers (a missing key is a 404 from the handler); a lost region is not waited for.
      const alive = (
        await Promise.all(
          o.endpoints.regions.map(async (r) => {
            const a = await o.endpoints.viaRegion(r, { method: "GET", path: "/kv/drill-alive" });
            return a.status === 200 || a.status === 404 ? r : undefined;
          }),
        )
      ).filter((r): r is string => r !== undefined);
      const probes = await Promise.all(alive.map((r) => o.prober.probe(r, limitMs, alive)));
      const all = probes.flat();
      const missing = all.filter((s) => s.lagMs === undefined);
      const written = probes.filter((p) => p.length > 0).length;
      const converged = written > 0 && missing.length === 0;
      return {
        converged,
        waitedMs: Date.now() - started,
        ...(converged
          ? {}
          : {
              detail:
                written === 0
                  ? "no region took a probe write"
                  : `probes not seen: ${missing.map((s) => `${s.from}>${s.to}`).join(", ")}`,
            }),
      };
    },
  };
}
