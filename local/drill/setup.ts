/**
 * Drill setup, before the clock starts: the target's baseline (every routing control On, the TTL
 * set, its settings read) and customer/product pairs, visible in every region.
 */
import type { DrillPlan } from "./plan";
import type { ControlState, DrillTarget, TargetSettings } from "./target";

export interface Pair {
  readonly customerId: string;
  readonly productId: string;
}

/**
 * Pairs per `POST /fill` during setup. The route takes up to FILL_MAX_PER_KIND of each kind, but
 * a thousand pairs is 80 batch writes in one request: on a busy 2-core machine that outlasts the
 * client's request timeout. Small requests keep each one short.
 */
const SETUP_PAIRS_PER_FILL = 50;

export const sleep = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Creates `count` pairs in the first region and waits until every region has them. */
export async function createPairs(
  target: DrillTarget,
  count: number,
  notes: string[],
): Promise<Pair[]> {
  const ep = target.endpoints;
  const regions = ep.regions;
  const setupRegion = regions[0] as string;
  const pairs: Pair[] = [];
  for (let left = count; left > 0; left -= SETUP_PAIRS_PER_FILL) {
    const n = Math.min(SETUP_PAIRS_PER_FILL, left);
    // Setup is not measured: straight to one region (no global endpoint in the way), and a slow
    // fill on a busy machine gets a minute rather than ending the drill.
    const res = await ep.viaRegion(setupRegion, {
      method: "POST",
      path: `/fill?cust=${n}&product=${n}&order=0`,
      timeoutMs: 60_000,
    });
    const body = res.body as { customers?: string[]; products?: string[] } | undefined;
    if (res.status !== 201 && res.status !== 200) {
      throw new Error(
        `POST /fill failed: HTTP ${res.status} ${res.error ?? JSON.stringify(res.body)}`,
      );
    }
    const customers = body?.customers ?? [];
    const products = body?.products ?? [];
    for (let i = 0; i < Math.min(customers.length, products.length); i++) {
      pairs.push({ customerId: customers[i] as string, productId: products[i] as string });
    }
  }
  const probe = pairs[pairs.length - 1];
  if (!probe) throw new Error("POST /fill returned no pairs");
  const visibleBy = Date.now() + 30_000;
  for (const region of regions) {
    for (;;) {
      const r = await ep.viaRegion(region, { method: "GET", path: `/products/${probe.productId}` });
      if (r.status === 200) break;
      if (Date.now() > visibleBy)
        throw new Error(`sample data did not reach ${region} within 30 s`);
      await sleep(100);
    }
  }
  const settled = await target.replication.waitConverged(30_000);
  if (!settled.converged) notes.push(`setup data had not fully converged: ${settled.detail ?? ""}`);
  return pairs;
}

/** What setup leaves for the run: the target as found, and the pairs to order. */
export interface DrillSetup {
  /** Every routing control as found (all On): what healing a switch restores. */
  readonly initialControls: Record<string, ControlState>;
  /** What the target says of itself, after the TTL was set. */
  readonly settings: TargetSettings;
  readonly pairs: Pair[];
}

/**
 * Checks that every routing control is On, sets the TTL when asked (`ttlSeconds`), reads the
 * target's settings, then creates the plan's pairs.
 */
export async function setUpDrill(
  target: DrillTarget,
  plan: DrillPlan,
  ttlSeconds: number | undefined,
  step: (line: string) => void,
  notes: string[],
): Promise<DrillSetup> {
  const initialControls = await target.controls.get();
  const off = plan.regions.filter((r) => initialControls[r] !== "On");
  if (off.length > 0) {
    throw new Error(`every routing control must be On before a drill; Off: ${off.join(", ")}`);
  }
  if (ttlSeconds !== undefined) {
    if (!target.setTtl) throw new Error(`${target.name} does not let the drill set the TTL`);
    await target.setTtl(ttlSeconds);
  }
  const settings = await target.settings();
  step(`creating ${plan.pairs} customer/product pairs`);
  const pairs = await createPairs(target, plan.pairs, notes);
  return { initialControls, settings, pairs };
}
