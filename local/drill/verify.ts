/** After the run: read what every surviving region holds and compare it with the ledger. */
import {
  findAnomalies,
  type AckedOrder,
  type Anomalies,
  type OrderRecord,
  type ProductRecord,
  type RegionTables,
} from "./anomalies";
import type { DrillTarget } from "./target";

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

/** The anomalies of this drill's products, from the surviving regions' data. */
export async function checkData(
  target: DrillTarget,
  surviving: readonly string[],
  ledger: readonly AckedOrder[],
  drillProducts: ReadonlySet<string>,
): Promise<{ anomalies: Anomalies; checkedAgainst: CheckedAgainst }> {
  const { tables, checkedAgainst } = await readRegions(target, surviving, ledger);
  return { anomalies: findAnomalies({ ledger, tables, products: drillProducts }), checkedAgainst };
}
