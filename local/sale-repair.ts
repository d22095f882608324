/**
 * The repair step in the sandbox (functions/data/repair.ts `repairSales`): run over a region's
 * tables when its database comes back and on `POST /control/repair`, so a sale that died between
 * its claim and its order ends with its order (or its claim released) without waiting for a read.
 */
import { repairCounts, repairSales, type RepairCounts } from "../functions/data/repair";
import { createDocumentClient } from "../functions/runtime";
import type { TableKey } from "../functions/tables";

/** DynamoDB Local checks only that credentials are present. */
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/**
 * Repairs every SOLD product of one region's tables through `endpoint` (the region's database,
 * or its MRSC front in strong mode).
 */
export async function repairRegion(
  region: string,
  endpoint: string,
  tables: Readonly<Record<TableKey, string>>,
  opts: { readonly dryRun?: boolean } = {},
): Promise<RepairCounts> {
  const doc = createDocumentClient({ region, endpoint, credentials: LOCAL_CREDENTIALS });
  try {
    const report = await repairSales(
      doc,
      { products: tables.products, orders: tables.orders },
      undefined,
      opts,
    );
    return repairCounts(report);
  } finally {
    doc.destroy();
  }
}

/** "; repair: 2 orders written, 1 claim released" for a region event line, or "" if it did nothing. */
export function repairPhrase(c: RepairCounts): string {
  const parts: string[] = [];
  if (c.ordersWritten > 0) parts.push(`${c.ordersWritten} orders written from their claims`);
  if (c.claimsReleased > 0) parts.push(`${c.claimsReleased} claims released`);
  if (c.claimChanged + c.notRebuildable > 0)
    parts.push(`${c.claimChanged + c.notRebuildable} left as found`);
  return parts.length > 0 ? `; repair: ${parts.join(", ")}` : "";
}
