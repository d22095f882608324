/**
 * After the run: let replication converge, run the repair step, then read what every surviving
 * region holds and compare it with the ledger, item by item, until compensation settles.
 */
import {
  findAnomalies,
  type AckedOrder,
  type Anomalies,
  type OrderRecord,
  type ProductRecord,
  type RegionTables,
} from "./anomalies";
import { findCompensation, type CompensationReport } from "./compensation";
import { COMPENSATION_TIMEOUT_DEFAULT_MS, nonNegative } from "./plan";
import type { Scenario } from "./report";
import type { ConvergenceResult, DrillTarget } from "./target";
import type { DrillRun } from "./under-fault";
import type { RepairCounts } from "../../functions/data/repair";
import type { Summary } from "../stats";

export type CheckedAgainst = "region tables" | "acknowledged orders";

/**
 * Each region's orders and products: the full tables when the target can scan them, else the
 * acknowledged orders read back one by one through the region's API, with their products.
 */
export async function readRegions(
  target: DrillTarget,
  regions: readonly string[],
  ledger: readonly AckedOrder[],
): Promise<{ tables: Record<string, RegionTables>; checkedAgainst: CheckedAgainst }> {
  const tables: Record<string, RegionTables> = {};
  const scan = target.replication.scanTables?.bind(target.replication);
  if (scan) {
    for (const region of regions) tables[region] = await scan(region);
    return { tables, checkedAgainst: "region tables" };
  }
  const ids = [...new Set(ledger.map((a) => a.orderId))];
  for (const region of regions) {
    const orders: OrderRecord[] = [];
    const products = new Map<string, ProductRecord>();
    for (const id of ids) {
      const r = await target.endpoints.viaRegion(region, {
        method: "GET",
        path: `/orders/${encodeURIComponent(id)}`,
      });
      if (r.status !== 200) continue;
      const body = r.body as { order: OrderRecord; product: ProductRecord | null };
      orders.push(body.order);
      if (body.product) products.set(body.product.ProductId, body.product);
    }
    tables[region] = { orders, products: [...products.values()] };
  }
  return { tables, checkedAgainst: "acknowledged orders" };
}

export interface DataCheck {
  readonly anomalies: Anomalies;
  readonly compensation: CompensationReport;
  readonly checkedAgainst: CheckedAgainst;
}

/** The anomalies and compensation of this drill's products, from the surviving regions' data. */
export async function checkData(
  target: DrillTarget,
  surviving: readonly string[],
  ledger: readonly AckedOrder[],
  drillProducts: ReadonlySet<string>,
  t0: number,
): Promise<DataCheck> {
  const { tables, checkedAgainst } = await readRegions(target, surviving, ledger);
  const anomalies = findAnomalies({ ledger, tables, products: drillProducts });
  const lost = new Set(anomalies.lostAcknowledged.orderIds);
  return {
    anomalies,
    compensation: findCompensation({ ledger, tables, lost, t0 }),
    checkedAgainst,
  };
}

/** What the repair step found and did, in the report. */
export interface RepairSummary {
  /** Whether the target could run it (`DrillTarget.repair`); if not, the counts below are 0. */
  readonly ran: boolean;
  /** This drill's products sold without an order, after replication converged, before repair. */
  readonly soldWithoutOrderBefore: number;
  /** Summed over the surviving regions (every SOLD product of each region's tables). */
  readonly ordersWritten: number;
  readonly claimsReleased: number;
  /** Claims that changed while the repair looked, or could not be rebuilt (legacy items). */
  readonly leftAsFound: number;
  readonly byRegion: Readonly<Record<string, RepairCounts>>;
}

/**
 * The repair step, after replication converged and before anomalies are counted: counts this
 * drill's products sold without an order, runs the target's repair in each surviving region in
 * turn, waiting for what one region wrote to replicate before the next. Without `target.repair`
 * it only counts.
 */
export async function repairData(
  target: DrillTarget,
  surviving: readonly string[],
  ledger: readonly AckedOrder[],
  drillProducts: ReadonlySet<string>,
  convergeTimeoutMs: number,
): Promise<RepairSummary> {
  const { tables } = await readRegions(target, surviving, ledger);
  const before = findAnomalies({ ledger, tables, products: drillProducts }).soldWithoutOrder.count;
  const byRegion: Record<string, RepairCounts> = {};
  const repair = target.repair?.bind(target);
  if (repair) {
    for (const region of surviving) {
      const counts = await repair(region);
      byRegion[region] = counts;
      // The next region sees what this one wrote, so a sale is repaired (and counted) once.
      if (counts.ordersWritten + counts.claimsReleased > 0)
        await target.replication.waitConverged(convergeTimeoutMs);
    }
  }
  const sum = (f: (c: RepairCounts) => number): number =>
    Object.values(byRegion).reduce((n, c) => n + f(c), 0);
  return {
    ran: repair !== undefined,
    soldWithoutOrderBefore: before,
    ordersWritten: sum((c) => c.ordersWritten),
    claimsReleased: sum((c) => c.claimsReleased),
    leftAsFound: sum((c) => c.claimChanged + c.notRebuildable),
    byRegion,
  };
}

/** One line for the text report. */
export function repairLine(r: RepairSummary): string {
  const before = `sold without order before repair ${r.soldWithoutOrderBefore}`;
  if (!r.ran) return `${before}; this target cannot run the repair step`;
  return (
    `${before}; repair wrote ${r.ordersWritten} orders, released ${r.claimsReleased} claims` +
    (r.leftAsFound > 0 ? `, left ${r.leftAsFound} as found (changed meanwhile or legacy)` : "")
  );
}

/** How often `settleData` looks again while compensation is outstanding. */
const SETTLE_POLL_MS = 500;

/**
 * `checkData`, looked at again (replication converged first each time) while double sales are
 * still outstanding, until none is or `timeoutMs` has passed: the reconcilers cancel the losers
 * after the winners' writes replicate, and the cancellations replicate in turn.
 */
export async function settleData(
  target: DrillTarget,
  surviving: readonly string[],
  ledger: readonly AckedOrder[],
  drillProducts: ReadonlySet<string>,
  t0: number,
  timeoutMs: number,
): Promise<DataCheck & { readonly settleWaitMs: number }> {
  const started = Date.now();
  for (;;) {
    const check = await checkData(target, surviving, ledger, drillProducts, t0);
    const left = timeoutMs - (Date.now() - started);
    if (check.compensation.outstanding === 0 || left <= 0) {
      return { ...check, settleWaitMs: Date.now() - started };
    }
    await new Promise((r) => setTimeout(r, Math.min(SETTLE_POLL_MS, left)));
    await target.replication.waitConverged(Math.max(1, timeoutMs - (Date.now() - started)));
  }
}

/** What the checks after the run take besides the run itself. */
export interface VerifyOptions {
  readonly scenario: Scenario;
  /** This drill's products: the anomalies are counted over these only. */
  readonly drillProducts: ReadonlySet<string>;
  /** How long to wait for replication to converge. @default 30000 */
  readonly settleTimeoutMs?: number | undefined;
  /** How long to keep looking while double sales are outstanding. @default COMPENSATION_TIMEOUT_DEFAULT_MS */
  readonly compensationTimeoutMs?: number | undefined;
}

/** What the checks after the run found. */
export interface Verification {
  readonly convergence: ConvergenceResult;
  readonly repair: RepairSummary;
  readonly data: DataCheck & { readonly settleWaitMs: number };
  /** Replication lag per table over the changes applied since the run started. */
  readonly lag: Record<string, Summary>;
}

/**
 * The checks after the run: resumes replication after a pause, waits for it to converge, runs
 * the repair step in the surviving regions, then counts anomalies and compensation (`settleData`)
 * and reads the replication lag. What did not settle goes into `notes`.
 */
export async function verifyRun(
  target: DrillTarget,
  run: DrillRun,
  opts: VerifyOptions,
  step: (line: string) => void,
  notes: string[],
): Promise<Verification> {
  if (opts.scenario === "replication-pause") {
    step("resuming replication");
    await target.faults.resumeReplication?.(undefined, undefined);
  }
  step("waiting for replication to converge");
  const convergence = await target.replication.waitConverged(opts.settleTimeoutMs ?? 30_000);
  if (!convergence.converged)
    notes.push(`replication did not converge: ${convergence.detail ?? ""}`);

  const { surviving, t0 } = run;
  const { ledger } = run.load;
  step("repairing sales left without their order, in every surviving region");
  const repair = await repairData(
    target,
    surviving,
    ledger,
    opts.drillProducts,
    opts.settleTimeoutMs ?? 30_000,
  );
  step("reading every surviving region's tables (waiting for compensation to settle)");
  const data = await settleData(
    target,
    surviving,
    ledger,
    opts.drillProducts,
    t0,
    nonNegative(
      "compensation timeout",
      opts.compensationTimeoutMs,
      COMPENSATION_TIMEOUT_DEFAULT_MS,
    ),
  );
  if (data.compensation.outstanding > 0) {
    notes.push(
      `${data.compensation.outstanding} double sales still not compensated after ${data.settleWaitMs} ms`,
    );
  }
  const lag = await target.replication.lag(t0);
  return { convergence, repair, data, lag };
}
