/**
 * The drill's numbers, computed from what its clients observed (pure functions), and the shape of
 * its JSON report. The text form of the report is report-text.ts.
 *
 * Definitions (all client-observed, times from the moment the fault was injected):
 * - affected clients: those whose last successful request before the fault was served by the
 *   faulted region;
 * - traffic moved: for each affected client, the first successful request served by another
 *   region; `firstMovedMs` is the quickest client, `trafficMovedMs` the slowest (the RTO the
 *   seed reads off its request-count chart);
 * - recovered to 99%: the earliest time after which at least 99% of requests succeed to the end
 *   of the run (0 when the fault never dropped below that);
 * - a failed request got no response, or a 5xx; a stale read is a 404 for an order this client
 *   had been told was created (it had not replicated to the region that answered yet); a refused
 *   order got a 4xx (a product sold out, an order id in use): the service answered, correctly.
 */
import { percentile, summarize, type Summary } from "../stats";
import type { Anomalies } from "./anomalies";
import type { CompensationReport } from "./compensation";
import type { RepairSummary } from "./verify";
import type { ConsistencySetting } from "./target";

export const SCENARIOS = ["switch", "region-loss", "replication-pause"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface Attempt {
  /** "global", or the region whose own endpoint was called (client-side failover). */
  readonly via: string;
  readonly status: number;
  readonly servedBy?: string | undefined;
  readonly resolvedRegion?: string | undefined;
  readonly error?: string | undefined;
  /** Ms since the run started. */
  readonly startedAt: number;
  readonly ms: number;
}

export type Outcome = "ok" | "failed" | "stale" | "refused";

export interface OpRecord {
  readonly client: string;
  readonly clientRegion: string;
  readonly kind: "create" | "read";
  /** An order of a load shape: a rival for a contended product, or a resale after a loss. */
  readonly load?: "rival" | "resale" | undefined;
  readonly orderId: string;
  readonly productId: string;
  /** Ms since the run started. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcome: Outcome;
  readonly status: number;
  readonly servedBy?: string | undefined;
  readonly attempts: readonly Attempt[];
}

export function attemptFailed(a: Pick<Attempt, "status">): boolean {
  return a.status === 0 || a.status >= 500;
}

export interface RtoResult {
  readonly affectedClients: readonly string[];
  /** Per affected client: ms from the fault to its first success served by another region. */
  readonly movedMsByClient: Readonly<Record<string, number | null>>;
  readonly firstMovedMs: number | null;
  /** Median over the affected clients that moved. */
  readonly medianMovedMs: number | null;
  /** Slowest affected client; null if one never moved within the run (or none was affected). */
  readonly trafficMovedMs: number | null;
  readonly recovered99Ms: number | null;
  /** The headline: traffic moved for switch and region-loss, recovered-to-99% otherwise. */
  readonly rtoMs: number | null;
}

export function computeRto(
  ops: readonly OpRecord[],
  faultAt: number,
  faultRegion: string,
  scenario: Scenario,
): RtoResult {
  const byClient = new Map<string, OpRecord[]>();
  for (const op of [...ops].sort((a, b) => a.endedAt - b.endedAt)) {
    const list = byClient.get(op.client) ?? [];
    list.push(op);
    byClient.set(op.client, list);
  }
  const affected: string[] = [];
  const moved: Record<string, number | null> = {};
  if (scenario !== "replication-pause") {
    for (const [client, list] of byClient) {
      const before = list.filter((o) => o.outcome === "ok" && o.endedAt <= faultAt);
      if (before[before.length - 1]?.servedBy !== faultRegion) continue;
      affected.push(client);
      const first = list.find(
        (o) => o.endedAt > faultAt && o.outcome === "ok" && o.servedBy !== faultRegion,
      );
      moved[client] = first ? first.endedAt - faultAt : null;
    }
  }
  const values = Object.values(moved);
  const known = values.filter((v): v is number => v !== null);
  const firstMovedMs = known.length > 0 ? Math.min(...known) : null;
  const trafficMovedMs =
    values.length > 0 && known.length === values.length ? Math.max(...known) : null;
  const recovered99Ms = recoveredAt(ops, faultAt, 0.99);
  return {
    affectedClients: affected.sort(),
    movedMsByClient: moved,
    firstMovedMs,
    medianMovedMs: known.length > 0 ? (percentile(known, 50) as number) : null,
    trafficMovedMs,
    recovered99Ms,
    rtoMs: scenario === "replication-pause" ? recovered99Ms : trafficMovedMs,
  };
}

/**
 * Ms from the fault to the earliest request start after which at least `ratio` of requests
 * succeed until the end; 0 if that holds from the fault on, null if it never does.
 */
export function recoveredAt(
  ops: readonly OpRecord[],
  faultAt: number,
  ratio: number,
): number | null {
  const after = ops.filter((o) => o.startedAt >= faultAt).sort((a, b) => a.startedAt - b.startedAt);
  if (after.length === 0) return null;
  const failedSuffix: number[] = new Array<number>(after.length + 1).fill(0);
  for (let i = after.length - 1; i >= 0; i--) {
    failedSuffix[i] =
      (failedSuffix[i + 1] as number) + ((after[i] as OpRecord).outcome === "failed" ? 1 : 0);
  }
  for (let i = 0; i < after.length; i++) {
    const total = after.length - i;
    const ok = total - (failedSuffix[i] as number);
    if (ok / total >= ratio) return i === 0 ? 0 : (after[i] as OpRecord).startedAt - faultAt;
  }
  return null;
}

export interface Bucket {
  /** Seconds since the run started (bucket start). */
  readonly t: number;
  readonly byRegion: Record<string, number>;
  readonly failed: number;
}

/** Requests answered per region (by `x-served-by-region`) and failed, per `sizeS`-second bucket. */
export function servedOverTime(
  ops: readonly OpRecord[],
  runMs: number,
  regions: readonly string[],
  sizeS = 1,
): Bucket[] {
  const n = Math.max(1, Math.ceil(runMs / 1000 / sizeS));
  const buckets = Array.from({ length: n }, (_, i) => ({
    t: i * sizeS,
    byRegion: Object.fromEntries(regions.map((r) => [r, 0])) as Record<string, number>,
    failed: 0,
  }));
  for (const op of ops) {
    for (const a of op.attempts) {
      const i = Math.min(n - 1, Math.max(0, Math.floor(a.startedAt / 1000 / sizeS)));
      const b = buckets[i] as { byRegion: Record<string, number>; failed: number };
      if (attemptFailed(a) || a.servedBy === undefined) b.failed++;
      else b.byRegion[a.servedBy] = (b.byRegion[a.servedBy] ?? 0) + 1;
    }
  }
  return buckets;
}

export interface RequestCounts {
  readonly ops: number;
  readonly ok: number;
  readonly failed: number;
  readonly staleReads: number;
  /** Orders refused with a 4xx (sold out, order id in use). */
  readonly refused: number;
  readonly attempts: number;
  readonly failedAttempts: number;
  /** Ops that needed the client-side failover retry to succeed. */
  readonly savedByClientFailover: number;
  readonly afterFault: {
    readonly ops: number;
    readonly failed: number;
    readonly failedAttempts: number;
    readonly staleReads: number;
  };
  /** Requests answered by each region (every attempt with a response), before and after the fault. */
  readonly servedBeforeFault: Record<string, number>;
  readonly servedAfterFault: Record<string, number>;
  readonly latencyMs: { readonly create: Summary; readonly read: Summary };
}

export function countRequests(
  ops: readonly OpRecord[],
  faultAt: number,
  regions: readonly string[],
): RequestCounts {
  const after = ops.filter((o) => o.startedAt >= faultAt);
  const attempts = ops.flatMap((o) => o.attempts);
  const served = (list: readonly Attempt[]): Record<string, number> => {
    const out = Object.fromEntries(regions.map((r) => [r, 0])) as Record<string, number>;
    for (const a of list)
      if (!attemptFailed(a) && a.servedBy) out[a.servedBy] = (out[a.servedBy] ?? 0) + 1;
    return out;
  };
  const latency = (kind: OpRecord["kind"]): Summary =>
    summarize(
      ops.filter((o) => o.kind === kind && o.outcome === "ok").map((o) => o.endedAt - o.startedAt),
    );
  return {
    ops: ops.length,
    ok: ops.filter((o) => o.outcome === "ok").length,
    failed: ops.filter((o) => o.outcome === "failed").length,
    staleReads: ops.filter((o) => o.outcome === "stale").length,
    refused: ops.filter((o) => o.outcome === "refused").length,
    attempts: attempts.length,
    failedAttempts: attempts.filter(attemptFailed).length,
    savedByClientFailover: ops.filter((o) => o.outcome === "ok" && o.attempts.length > 1).length,
    afterFault: {
      ops: after.length,
      failed: after.filter((o) => o.outcome === "failed").length,
      failedAttempts: after.flatMap((o) => o.attempts).filter(attemptFailed).length,
      staleReads: after.filter((o) => o.outcome === "stale").length,
    },
    servedBeforeFault: served(attempts.filter((a) => a.startedAt < faultAt)),
    servedAfterFault: served(attempts.filter((a) => a.startedAt >= faultAt)),
    latencyMs: { create: latency("create"), read: latency("read") },
  };
}

/** What the load shapes did: how many orders each added. */
export interface LoadCounts {
  readonly contendedProducts: number;
  readonly rivalOrders: number;
  readonly resaleOrders: number;
  /** Orders sent to a second region (failure, or no answer in time). */
  readonly retriedElsewhere: number;
}

export function countLoad(ops: readonly OpRecord[]): LoadCounts {
  const creates = ops.filter((o) => o.kind === "create");
  const rivals = creates.filter((o) => o.load === "rival");
  return {
    contendedProducts: new Set(rivals.map((o) => o.productId)).size,
    rivalOrders: rivals.length,
    resaleOrders: creates.filter((o) => o.load === "resale").length,
    retriedElsewhere: creates.filter((o) => o.attempts.length > 1).length,
  };
}

export interface DrillReport {
  readonly version: 2;
  readonly scenario: Scenario;
  readonly target: string;
  readonly regions: readonly string[];
  readonly faultRegion: string;
  readonly settings: {
    readonly durationS: number;
    readonly faultAtS: number;
    readonly ratePerRegion: number;
    readonly clientsPerRegion: number;
    readonly clientFailover: boolean;
    /** Share of products also ordered from every other region. */
    readonly contention: number;
    readonly contentionSpreadMs: number;
    readonly retryElsewhere: boolean;
    readonly retryAfterMs: number;
    /** Region loss: products acknowledged this long before the loss are offered again (0: none). */
    readonly resellWindowMs: number;
    readonly ttlSeconds?: number | undefined;
    readonly policy?: string | undefined;
    readonly healthCheck?:
      { readonly intervalMs: number; readonly failureThreshold: number } | undefined;
    readonly replicationLag?: string | undefined;
    /** The target's consistency mode; absent: not reported by the target (eventual). */
    readonly consistency?: ConsistencySetting | undefined;
  };
  /** ISO times. */
  readonly startedAt: string;
  readonly faultInjectedAt: string;
  readonly endedAt: string;
  /** What the fault was, in words. */
  readonly fault: string;
  readonly rto: RtoResult;
  readonly requests: RequestCounts;
  readonly replicationLagMs: Readonly<Record<string, Summary>>;
  readonly rpo: {
    readonly acknowledgedOrders: number;
    readonly survivingRegions: readonly string[];
    readonly converged: boolean;
    readonly convergenceWaitMs: number;
    /** Acknowledged orders missing from a surviving region after convergence. */
    readonly lostWrites: number;
    readonly lostOrderIds: Readonly<Record<string, readonly string[]>>;
    /** What was read: every surviving region's full tables, or only the acknowledged orders. */
    readonly checkedAgainst: "region tables" | "acknowledged orders";
  };
  readonly load: LoadCounts;
  /**
   * The repair step (verify.ts `repairData`), run after convergence and before the anomalies are
   * counted. Absent in reports saved before it ran.
   */
  readonly repair?: RepairSummary;
  /**
   * Data anomalies after convergence and the repair step, from every surviving region's tables
   * (see anomalies.ts).
   */
  readonly anomalies: Anomalies;
  /**
   * Conflict compensation after convergence (see compensation.ts), and how long the drill waited
   * for it beyond replication converging. Always set by runDrill; absent in reports saved before
   * it was measured.
   */
  readonly compensation?: CompensationReport & { readonly settleWaitMs: number };
  readonly servedPerRegion: readonly Bucket[];
  readonly notes: readonly string[];
  /** Every operation, when asked for (`--ops`); times in ms since `startedAt`. */
  readonly ops?: readonly OpRecord[];
}
