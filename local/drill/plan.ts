/**
 * What a drill is asked to do: its options and their defaults, what it reports while it runs, and
 * the plan those options make, checked against the target before anything is changed.
 */
import type { LoadShape } from "./load";
import type { Scenario } from "./report";
import type { DrillTarget } from "./target";

/** Rival orders of a contended product come within this of the first: inside the replication window (600-1200 ms by default). */
export const CONTENTION_SPREAD_DEFAULT_MS = 250;
/** A client with `retryElsewhere` gives up waiting after this long and tries another region. */
export const RETRY_AFTER_DEFAULT_MS = 250;
/** Longest the drill waits, after replication converged, for double sales to be compensated. */
export const COMPENSATION_TIMEOUT_DEFAULT_MS = 20_000;
/** Region loss: products the lost region acknowledged this long before the loss are offered again. */
export const RESELL_WINDOW_DEFAULT_MS = 5_000;

export interface DrillOptions {
  readonly scenario: Scenario;
  /** Region the fault hits. @default the first region */
  readonly faultRegion?: string;
  /** @default 60000 */
  readonly durationMs?: number;
  /** @default 20000 */
  readonly faultAtMs?: number;
  /** Orders per second per region (each followed by a read). @default 1, as in the seed */
  readonly ratePerRegion?: number;
  /** @default 1 */
  readonly clientsPerRegion?: number;
  /** Retry a failed request once at another region's own endpoint. @default false */
  readonly clientFailover?: boolean;
  /** Share of products (0..1) also ordered by a client in every other region. @default 0 */
  readonly contention?: number;
  /** Rival orders come within this many ms of the first. @default CONTENTION_SPREAD_DEFAULT_MS */
  readonly contentionSpreadMs?: number;
  /**
   * An order that fails or gets no answer within `retryAfterMs` is sent again, same order id,
   * to another region's own endpoint. @default false
   */
  readonly retryElsewhere?: boolean;
  /** @default RETRY_AFTER_DEFAULT_MS */
  readonly retryAfterMs?: number;
  /** Region loss: how far before the loss acknowledged products are offered again; 0 for none. @default RESELL_WINDOW_DEFAULT_MS */
  readonly resellWindowMs?: number;
  /** Set the target's TTL first (where it allows it). */
  readonly ttlSeconds?: number;
  /** Customer/product pairs to create. @default enough for the run, plus a margin */
  readonly pairs?: number;
  /** How long to wait for replication to settle after the run. @default 30000 */
  readonly settleTimeoutMs?: number;
  /**
   * How long after that to keep looking while double sales are not yet compensated (the
   * reconcilers cancel losers after the winners replicate). @default COMPENSATION_TIMEOUT_DEFAULT_MS
   */
  readonly compensationTimeoutMs?: number;
  /** Undo the fault afterwards (controls back, region started, replication resumed). @default true */
  readonly heal?: boolean;
  /** Put every operation the clients made into the report (`ops`). @default false */
  readonly includeOps?: boolean;
  /** Called about once a second while the load runs. */
  readonly onProgress?: (p: Progress) => void;
  /** Setup and teardown steps, in words. */
  readonly onStep?: (line: string) => void;
}

export interface Progress {
  readonly elapsedMs: number;
  readonly durationMs: number;
  readonly faultAtMs: number;
  readonly faultInjected: boolean;
  readonly ops: number;
  readonly ok: number;
  readonly failed: number;
  readonly staleReads: number;
  readonly refused: number;
  /** Products the clients were told, so far, that two different orders bought. */
  readonly ackedTwice: number;
  /** Responses per serving region in the last 5 s. */
  readonly recentByRegion: Readonly<Record<string, number>>;
  readonly recentFailed: number;
}

/** The options, checked and with their defaults: what every phase of the drill works from. */
export interface DrillPlan {
  readonly scenario: Scenario;
  readonly regions: readonly string[];
  readonly faultRegion: string;
  readonly durationMs: number;
  readonly faultAtMs: number;
  /** Orders per second per region. */
  readonly rate: number;
  readonly clientsPerRegion: number;
  /** Customer/product pairs to create. */
  readonly pairs: number;
  readonly shape: LoadShape;
  readonly resellWindowMs: number;
}

/** Checks options against the target before anything is changed. */
export function planDrill(target: DrillTarget, opts: DrillOptions): DrillPlan {
  const regions = target.endpoints.regions;
  const faultRegion = opts.faultRegion ?? (regions[0] as string);
  if (!regions.includes(faultRegion)) {
    throw new Error(
      `--region ${faultRegion} is not one of the target's regions: ${regions.join(", ")}`,
    );
  }
  const durationMs = opts.durationMs ?? 60_000;
  const faultAtMs = opts.faultAtMs ?? 20_000;
  if (!(faultAtMs > 0 && faultAtMs < durationMs)) {
    throw new Error(
      `the fault must come during the run: fault at ${faultAtMs} ms, duration ${durationMs} ms`,
    );
  }
  const rate = opts.ratePerRegion ?? 1;
  if (!(rate > 0 && rate <= 50))
    throw new Error(`rate must be within (0, 50] orders/s per region: got ${rate}`);
  const clientsPerRegion = opts.clientsPerRegion ?? 1;
  if (!Number.isInteger(clientsPerRegion) || clientsPerRegion < 1 || clientsPerRegion > 20) {
    throw new Error(`clients per region must be a whole number 1..20: got ${clientsPerRegion}`);
  }
  const f = target.faults;
  if (opts.scenario === "region-loss" && !(f.stopRegion && f.startRegion)) {
    throw new Error(
      `${target.name} cannot stop a region: the region-loss scenario needs a target that can`,
    );
  }
  if (opts.scenario === "replication-pause" && !(f.pauseReplication && f.resumeReplication)) {
    throw new Error(
      `${target.name} cannot pause replication: the replication-pause scenario needs a target that can`,
    );
  }
  const needed =
    Math.ceil(rate * (durationMs / 1000) * regions.length * 1.2) +
    5 * regions.length * clientsPerRegion;
  const pairs = opts.pairs ?? needed;
  return {
    scenario: opts.scenario,
    regions,
    faultRegion,
    durationMs,
    faultAtMs,
    rate,
    clientsPerRegion,
    pairs,
    shape: planShape(opts),
    resellWindowMs: nonNegative("resell window", opts.resellWindowMs, RESELL_WINDOW_DEFAULT_MS),
  };
}

/** `value` (or `fallback`), refused unless it is a finite number of ms, 0 or more. */
export function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(Number.isFinite(v) && v >= 0)) throw new Error(`${name} must be 0 or more ms: got ${v}`);
  return v;
}

/** The load shape of a drill, checked. */
export function planShape(opts: DrillOptions): LoadShape {
  const contention = opts.contention ?? 0;
  if (!(contention >= 0 && contention <= 1)) {
    throw new Error(`contention must be a share of products within [0, 1]: got ${contention}`);
  }
  return {
    contention,
    contentionSpreadMs: nonNegative(
      "contention spread",
      opts.contentionSpreadMs,
      CONTENTION_SPREAD_DEFAULT_MS,
    ),
    clientFailover: opts.clientFailover ?? false,
    retryElsewhere: opts.retryElsewhere ?? false,
    retryAfterMs: nonNegative("retry-after", opts.retryAfterMs, RETRY_AFTER_DEFAULT_MS),
  };
}
