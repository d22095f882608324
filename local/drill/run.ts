/**
 * The failover drill: the seed's test as one call. Creates customer/product pairs, runs a steady
 * order flow (create, then read back) through the global endpoint from clients in every region,
 * injects the scenario's fault, waits for replication to settle, and measures. Only the
 * `DrillTarget` interface is used, so a deployed target needs no change here.
 */
import type { AckedOrder } from "./anomalies";
import { Load, type LoadShape } from "./load";
import {
  computeRto,
  countLoad,
  countRequests,
  servedOverTime,
  attemptFailed,
  type DrillReport,
  type Scenario,
} from "./report";
import { createPairs, sleep } from "./setup";
import type { ClientIdentity, ControlState, DrillTarget, TargetSettings } from "./target";
import { repairData, settleData } from "./verify";

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

export function describeFault(scenario: Scenario, region: string): string {
  switch (scenario) {
    case "switch":
      return `routing control of ${region} turned Off`;
    case "region-loss":
      return `${region} stopped (API and database)`;
    case "replication-pause":
      return `replication to and from ${region} paused`;
  }
}

/** Checks options against the target before anything is changed. */
export function planDrill(target: DrillTarget, opts: DrillOptions) {
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

function nonNegative(name: string, value: number | undefined, fallback: number): number {
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

export async function runDrill(target: DrillTarget, opts: DrillOptions): Promise<DrillReport> {
  const plan = planDrill(target, opts);
  const { regions, faultRegion, durationMs, faultAtMs, rate, clientsPerRegion, shape } = plan;
  const step = opts.onStep ?? (() => undefined);
  const notes: string[] = [];

  const initialControls = await target.controls.get();
  const off = regions.filter((r) => initialControls[r] !== "On");
  if (off.length > 0) {
    throw new Error(`every routing control must be On before a drill; Off: ${off.join(", ")}`);
  }
  if (opts.ttlSeconds !== undefined) {
    if (!target.setTtl) throw new Error(`${target.name} does not let the drill set the TTL`);
    await target.setTtl(opts.ttlSeconds);
  }
  const settings = await target.settings();
  const faultText =
    target.faults.describe?.(opts.scenario, faultRegion) ??
    describeFault(opts.scenario, faultRegion);

  step(`creating ${plan.pairs} customer/product pairs`);
  const pairs = await createPairs(target, plan.pairs, notes);

  // ---- the run -------------------------------------------------------------------------
  const runId = Date.now().toString(36).slice(-5);
  const clients: ClientIdentity[] = regions.flatMap((region) =>
    Array.from({ length: clientsPerRegion }, (_, i) => ({
      id: `drill-${runId}-${region}-${i}`,
      region,
    })),
  );
  const t0 = Date.now();
  const intervalMs = (1000 * clientsPerRegion) / rate;
  const load = new Load({ target, clients, clientsPerRegion, pairs, intervalMs, shape, t0, notes });
  let faultAt: number | undefined;

  step(`running ${durationMs / 1000} s of load; ${faultText} at ${faultAtMs / 1000} s`);
  load.start(
    clientOffsets(clients.length, regions.length, clientsPerRegion, intervalMs, {
      ttlMs: (settings.ttlSeconds ?? 0) * 1000,
      faultAtMs,
    }),
  );

  const progressTimer = setInterval(() => {
    if (opts.onProgress) opts.onProgress(progressOf(load, regions, durationMs, faultAtMs, faultAt));
  }, 1_000);

  const heal: (() => Promise<void>)[] = [];
  let surviving = [...regions];
  try {
    await sleep(t0 + faultAtMs - Date.now());
    faultAt = load.rel(Date.now());
    surviving = await injectFault(target, opts.scenario, faultRegion, initialControls, heal);
    step(`fault injected at ${(faultAt / 1000).toFixed(1)} s: ${faultText}`);
    if (opts.scenario === "region-loss" && plan.resellWindowMs > 0) {
      // Selling goes on: what the lost region sold just before the loss is offered again.
      load.resell(
        soldBefore(load.ledger, faultRegion, faultAt - plan.resellWindowMs),
        clients.filter((c) => surviving.includes(c.region)),
      );
    }
    await sleep(t0 + durationMs - Date.now());
  } finally {
    await load.stop();
    clearInterval(progressTimer);
  }
  const endedAt = Date.now();
  const faultAtRel = faultAt ?? faultAtMs;
  const ops = load.ops;

  // ---- after the run: settle, then check what survived --------------------------------
  if (opts.scenario === "replication-pause") {
    step("resuming replication");
    await target.faults.resumeReplication?.(undefined, undefined);
  }
  step("waiting for replication to converge");
  const convergence = await target.replication.waitConverged(opts.settleTimeoutMs ?? 30_000);
  if (!convergence.converged)
    notes.push(`replication did not converge: ${convergence.detail ?? ""}`);

  const drillProducts = new Set(pairs.map((p) => p.productId));
  step("repairing sales left without their order, in every surviving region");
  const repair = await repairData(
    target,
    surviving,
    load.ledger,
    drillProducts,
    opts.settleTimeoutMs ?? 30_000,
  );
  step("reading every surviving region's tables (waiting for compensation to settle)");
  const { anomalies, compensation, checkedAgainst, settleWaitMs } = await settleData(
    target,
    surviving,
    load.ledger,
    drillProducts,
    t0,
    nonNegative(
      "compensation timeout",
      opts.compensationTimeoutMs,
      COMPENSATION_TIMEOUT_DEFAULT_MS,
    ),
  );
  if (compensation.outstanding > 0) {
    notes.push(
      `${compensation.outstanding} double sales still not compensated after ${settleWaitMs} ms`,
    );
  }
  const lag = await target.replication.lag(t0);

  if (opts.heal ?? true) {
    step("healing: undoing the fault");
    // The measurements are taken: a failed undo is reported with them, not instead of them.
    for (const h of heal) {
      try {
        await h();
      } catch (err) {
        notes.push(`healing failed, the fault may still be in place: ${(err as Error).message}`);
      }
    }
  }

  return {
    version: 2,
    scenario: opts.scenario,
    target: target.name,
    regions,
    faultRegion,
    settings: reportSettings(plan, opts.scenario, settings),
    startedAt: new Date(t0).toISOString(),
    faultInjectedAt: new Date(t0 + faultAtRel).toISOString(),
    endedAt: new Date(endedAt).toISOString(),
    fault: faultText,
    rto: computeRto(ops, faultAtRel, faultRegion, opts.scenario),
    requests: countRequests(ops, faultAtRel, regions),
    replicationLagMs: lag,
    rpo: {
      acknowledgedOrders: new Set(load.ledger.map((a) => a.orderId)).size,
      survivingRegions: surviving,
      converged: convergence.converged,
      convergenceWaitMs: convergence.waitedMs,
      lostWrites: anomalies.lostAcknowledged.count,
      lostOrderIds: anomalies.lostAcknowledged.byRegion,
      checkedAgainst,
    },
    load: countLoad(ops),
    repair,
    anomalies,
    compensation: { ...compensation, settleWaitMs },
    servedPerRegion: servedOverTime(ops, durationMs, regions),
    notes,
    ...(opts.includeOps ? { ops: [...ops].sort((a, b) => a.startedAt - b.startedAt) } : {}),
  };
}

/** The settings section of the report: the plan and what the target said of itself. */
function reportSettings(
  plan: ReturnType<typeof planDrill>,
  scenario: Scenario,
  target: TargetSettings,
): DrillReport["settings"] {
  const { shape } = plan;
  return {
    durationS: plan.durationMs / 1000,
    faultAtS: plan.faultAtMs / 1000,
    ratePerRegion: plan.rate,
    clientsPerRegion: plan.clientsPerRegion,
    clientFailover: shape.clientFailover,
    contention: shape.contention,
    contentionSpreadMs: shape.contentionSpreadMs,
    retryElsewhere: shape.retryElsewhere,
    retryAfterMs: shape.retryAfterMs,
    resellWindowMs: scenario === "region-loss" ? plan.resellWindowMs : 0,
    ttlSeconds: target.ttlSeconds,
    policy: target.policy,
    healthCheck: target.healthCheck,
    replicationLag: target.lag,
    consistency: target.consistency,
  };
}

/**
 * When each client starts, in ms after t0. A client keeps its answer for the TTL from its first
 * request on, so when it starts decides how long after the fault its answer expires. One client
 * per region starts at once (as in the seed); several are spread over one TTL (or up to the
 * fault), so their answers expire at different times and the report shows the range a
 * population of clients sees.
 */
function clientOffsets(
  count: number,
  regionCount: number,
  clientsPerRegion: number,
  intervalMs: number,
  at: { ttlMs: number; faultAtMs: number },
): number[] {
  const spreadMs =
    clientsPerRegion > 1
      ? Math.max(intervalMs, Math.min(at.ttlMs, at.faultAtMs * 0.9))
      : intervalMs;
  return Array.from({ length: count }, (_, i) => {
    const nth = i % clientsPerRegion;
    const regionIndex = Math.floor(i / clientsPerRegion);
    return (
      (spreadMs * nth) / clientsPerRegion +
      (intervalMs * regionIndex) / (regionCount * clientsPerRegion)
    );
  });
}

/** The first acknowledged order per product that `region` answered at or after `since`. */
export function soldBefore(
  ledger: readonly AckedOrder[],
  region: string,
  since: number,
): AckedOrder[] {
  const seen = new Set<string>();
  return ledger.filter((a) => {
    if (a.servedBy !== region || a.at < since || seen.has(a.productId)) return false;
    seen.add(a.productId);
    return true;
  });
}

/** Injects the scenario's fault; pushes its undo onto `heal`; returns the surviving regions. */
async function injectFault(
  target: DrillTarget,
  scenario: Scenario,
  faultRegion: string,
  initialControls: Record<string, ControlState>,
  heal: (() => Promise<void>)[],
): Promise<string[]> {
  const regions = target.endpoints.regions;
  switch (scenario) {
    case "switch": {
      await target.controls.set({ [faultRegion]: "Off" });
      heal.push(() => target.controls.set(initialControls));
      return [...regions];
    }
    case "region-loss": {
      await target.faults.stopRegion?.(faultRegion);
      heal.push(async () => target.faults.startRegion?.(faultRegion));
      return regions.filter((r) => r !== faultRegion);
    }
    case "replication-pause": {
      await target.faults.pauseReplication?.(faultRegion, undefined);
      await target.faults.pauseReplication?.(undefined, faultRegion);
      return [...regions];
    }
  }
}

/** Where the run stands, from what the clients saw so far. */
function progressOf(
  load: Load,
  regions: readonly string[],
  durationMs: number,
  faultAtMs: number,
  faultAt: number | undefined,
): Progress {
  const ops = load.ops;
  const now = load.rel(Date.now());
  const recent = ops.flatMap((o) => o.attempts).filter((a) => a.startedAt >= now - 5_000);
  const byRegion: Record<string, number> = Object.fromEntries(regions.map((r) => [r, 0]));
  for (const a of recent)
    if (!attemptFailed(a) && a.servedBy) byRegion[a.servedBy] = (byRegion[a.servedBy] ?? 0) + 1;
  const ordersByProduct = new Map<string, Set<string>>();
  for (const a of load.ledger) {
    const set = ordersByProduct.get(a.productId) ?? new Set<string>();
    ordersByProduct.set(a.productId, set.add(a.orderId));
  }
  return {
    elapsedMs: now,
    durationMs,
    faultAtMs,
    faultInjected: faultAt !== undefined,
    ops: ops.length,
    ok: ops.filter((o) => o.outcome === "ok").length,
    failed: ops.filter((o) => o.outcome === "failed").length,
    staleReads: ops.filter((o) => o.outcome === "stale").length,
    refused: ops.filter((o) => o.outcome === "refused").length,
    ackedTwice: [...ordersByProduct.values()].filter((s) => s.size > 1).length,
    recentByRegion: byRegion,
    recentFailed: recent.filter(attemptFailed).length,
  };
}
