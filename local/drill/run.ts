/**
 * The failover drill: the seed's test as one call. Creates customer/product pairs, runs a steady
 * order flow (create, then read back) through the global endpoint from clients in every region,
 * injects the scenario's fault, waits for replication to settle, and measures. Only the
 * `DrillTarget` interface is used, so a deployed target needs no change here.
 *
 * The phases, in order: setup.ts (the target's baseline and the pairs), under-fault.ts (the load
 * and the fault), verify.ts (convergence, repair, the item-by-item comparison); then the fault is
 * undone and the report (report.ts) is put together here.
 */
import { planDrill, type DrillOptions, type DrillPlan } from "./plan";
import { computeRto, countLoad, countRequests, servedOverTime, type DrillReport } from "./report";
import { setUpDrill } from "./setup";
import type { DrillTarget, TargetSettings } from "./target";
import { describeFault, loadUnderFault, type DrillRun } from "./under-fault";
import { verifyRun, type Verification } from "./verify";

/**
 * Runs one drill against `target`: checks the options (`planDrill`), sets up, runs the load with
 * the fault, verifies what survived, undoes the fault (unless `heal` is false) and reports.
 */
export async function runDrill(target: DrillTarget, opts: DrillOptions): Promise<DrillReport> {
  const plan = planDrill(target, opts);
  const step = opts.onStep ?? (() => undefined);
  const notes: string[] = [];

  const setup = await setUpDrill(target, plan, opts.ttlSeconds, step, notes);
  const faultText =
    target.faults.describe?.(plan.scenario, plan.faultRegion) ??
    describeFault(plan.scenario, plan.faultRegion);
  const run = await loadUnderFault(target, plan, setup, {
    faultText,
    step,
    onProgress: opts.onProgress,
    notes,
  });
  const verified = await verifyRun(
    target,
    run,
    {
      scenario: plan.scenario,
      drillProducts: new Set(setup.pairs.map((p) => p.productId)),
      settleTimeoutMs: opts.settleTimeoutMs,
      compensationTimeoutMs: opts.compensationTimeoutMs,
    },
    step,
    notes,
  );
  if (opts.heal ?? true) {
    step("healing: undoing the fault");
    await heal(run.heal, notes);
  }
  return drillReport(target, plan, { settings: setup.settings, faultText, notes }, run, verified, {
    includeOps: opts.includeOps ?? false,
  });
}

/**
 * Runs the fault's undo steps in order. The measurements are taken: a failed undo is reported
 * with them (in `notes`), not instead of them.
 */
async function heal(undo: readonly (() => Promise<void>)[], notes: string[]): Promise<void> {
  for (const h of undo) {
    try {
      await h();
    } catch (err) {
      notes.push(`healing failed, the fault may still be in place: ${(err as Error).message}`);
    }
  }
}

/** The report: the plan, what the clients saw during the run, and what the checks found. */
function drillReport(
  target: DrillTarget,
  plan: DrillPlan,
  said: { settings: TargetSettings; faultText: string; notes: string[] },
  run: DrillRun,
  verified: Verification,
  opts: { includeOps: boolean },
): DrillReport {
  const { regions, faultRegion, scenario } = plan;
  const { t0, faultAt } = run;
  const { ops, ledger } = run.load;
  const { anomalies, compensation, checkedAgainst, settleWaitMs } = verified.data;
  return {
    version: 2,
    scenario,
    target: target.name,
    regions,
    faultRegion,
    settings: reportSettings(plan, said.settings),
    startedAt: new Date(t0).toISOString(),
    faultInjectedAt: new Date(t0 + faultAt).toISOString(),
    endedAt: new Date(run.endedAt).toISOString(),
    fault: said.faultText,
    rto: computeRto(ops, faultAt, faultRegion, scenario),
    requests: countRequests(ops, faultAt, regions),
    replicationLagMs: verified.lag,
    rpo: {
      acknowledgedOrders: new Set(ledger.map((a) => a.orderId)).size,
      survivingRegions: run.surviving,
      converged: verified.convergence.converged,
      convergenceWaitMs: verified.convergence.waitedMs,
      lostWrites: anomalies.lostAcknowledged.count,
      lostOrderIds: anomalies.lostAcknowledged.byRegion,
      checkedAgainst,
    },
    load: countLoad(ops),
    repair: verified.repair,
    anomalies,
    compensation: { ...compensation, settleWaitMs },
    servedPerRegion: servedOverTime(ops, plan.durationMs, regions),
    notes: said.notes,
    ...(opts.includeOps ? { ops: [...ops].sort((a, b) => a.startedAt - b.startedAt) } : {}),
  };
}

/** The settings section of the report: the plan and what the target said of itself. */
function reportSettings(plan: DrillPlan, target: TargetSettings): DrillReport["settings"] {
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
    resellWindowMs: plan.scenario === "region-loss" ? plan.resellWindowMs : 0,
    ttlSeconds: target.ttlSeconds,
    policy: target.policy,
    healthCheck: target.healthCheck,
    replicationLag: target.lag,
    consistency: target.consistency,
  };
}
