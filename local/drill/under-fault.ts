/**
 * The drill's run: clients in every region place orders through the global endpoint for the
 * planned duration, the scenario's fault goes in at its time (and, after a region loss, what the
 * lost region had just sold is offered again), and progress is reported about once a second.
 */
import type { AckedOrder } from "./anomalies";
import { Load } from "./load";
import type { DrillPlan, Progress } from "./plan";
import { attemptFailed, type Scenario } from "./report";
import { sleep, type DrillSetup } from "./setup";
import type { ClientIdentity, ControlState, DrillTarget } from "./target";

/** What the run leaves for the checks after it. */
export interface DrillRun {
  /** The clients' operations (`ops`) and what they were told was ordered (`ledger`). */
  readonly load: Load;
  /** Epoch ms the run started: op times are relative to it. */
  readonly t0: number;
  /** Epoch ms the load stopped (every request in flight answered). */
  readonly endedAt: number;
  /** Ms after t0 the fault went in. */
  readonly faultAt: number;
  /** Regions still running: all but the lost one after a region loss. */
  readonly surviving: string[];
  /** The fault's undo steps, in order. */
  readonly heal: (() => Promise<void>)[];
}

/** How the run talks back, and what it says the fault is. */
export interface RunReporting {
  /** The fault, in words (`DrillTarget.faults.describe`, else `describeFault`). */
  readonly faultText: string;
  readonly step: (line: string) => void;
  readonly onProgress?: ((p: Progress) => void) | undefined;
  readonly notes: string[];
}

/** A scenario's fault in words, for a target that does not describe its own. */
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

/**
 * Runs the load for `plan.durationMs` and injects the fault at `plan.faultAtMs`; stops the load
 * (waiting for every request in flight) even when injecting the fault fails.
 */
export async function loadUnderFault(
  target: DrillTarget,
  plan: DrillPlan,
  setup: DrillSetup,
  reporting: RunReporting,
): Promise<DrillRun> {
  const { regions, faultRegion, durationMs, faultAtMs, rate, clientsPerRegion, shape } = plan;
  const runId = Date.now().toString(36).slice(-5);
  const clients: ClientIdentity[] = regions.flatMap((region) =>
    Array.from({ length: clientsPerRegion }, (_, i) => ({
      id: `drill-${runId}-${region}-${i}`,
      region,
    })),
  );
  const t0 = Date.now();
  const intervalMs = (1000 * clientsPerRegion) / rate;
  const { pairs } = setup;
  const { notes } = reporting;
  const load = new Load({ target, clients, clientsPerRegion, pairs, intervalMs, shape, t0, notes });
  let faultAt: number | undefined;

  reporting.step(
    `running ${durationMs / 1000} s of load; ${reporting.faultText} at ${faultAtMs / 1000} s`,
  );
  load.start(
    clientOffsets(clients.length, regions.length, clientsPerRegion, intervalMs, {
      ttlMs: (setup.settings.ttlSeconds ?? 0) * 1000,
      faultAtMs,
    }),
  );

  const progressTimer = setInterval(() => {
    if (reporting.onProgress)
      reporting.onProgress(progressOf(load, regions, durationMs, faultAtMs, faultAt));
  }, 1_000);

  const heal: (() => Promise<void>)[] = [];
  let surviving = [...regions];
  try {
    await sleep(t0 + faultAtMs - Date.now());
    faultAt = load.rel(Date.now());
    surviving = await injectFault(target, plan.scenario, faultRegion, setup.initialControls, heal);
    reporting.step(`fault injected at ${(faultAt / 1000).toFixed(1)} s: ${reporting.faultText}`);
    if (plan.scenario === "region-loss" && plan.resellWindowMs > 0) {
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
  return { load, t0, endedAt: Date.now(), faultAt: faultAt ?? faultAtMs, surviving, heal };
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
