/**
 * The repair step over DynamoDB: every SOLD product of a region's tables ends SOLD to an order
 * that exists and is for it, or back IN_STOCK (see `repairSale`). For operators and drills (the
 * sandbox, the drill's verify, the reconciler); it scans the products table, so no API function
 * calls the scanning form.
 */
import { ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { OrderItem } from "../domain/model";
import {
  repairSale,
  type OrderStore,
  type PutOrderResult,
  type RepairOutcome,
} from "../domain/orders";
import { dynamo } from "./errors";
import { DynamoOrderStore, type OrderReadTables } from "./orders";

/** Product ids by what `repairSale` did to each. */
export type RepairReport = Record<RepairOutcome, string[]>;

function emptyReport(): RepairReport {
  return {
    "no-claim": [],
    "order-exists": [],
    "order-written": [],
    "claim-released": [],
    "claim-changed": [],
    "not-rebuildable": [],
  };
}

/** The counts an operator reads: how many products each kind of repair touched. */
export interface RepairCounts {
  /** SOLD products looked at. */
  readonly checked: number;
  readonly ordersWritten: number;
  readonly claimsReleased: number;
  /** Changed while the repair looked: run it again. */
  readonly claimChanged: number;
  /** SOLD naming a missing order, written before claims carried the order (legacy). */
  readonly notRebuildable: number;
}

export function repairCounts(report: RepairReport): RepairCounts {
  return {
    checked: Object.values(report).reduce((n, ids) => n + ids.length, 0),
    ordersWritten: report["order-written"].length,
    claimsReleased: report["claim-released"].length,
    claimChanged: report["claim-changed"].length,
    notRebuildable: report["not-rebuildable"].length,
  };
}

/**
 * A store that reads but never writes: `putOrder` answers what the conditional put would have
 * done, `releaseClaim` whether the claim is still there to release. For `--dry-run`.
 */
export class DryRunOrderStore implements OrderStore {
  constructor(private readonly inner: OrderStore) {}

  getOrder(orderId: string): ReturnType<OrderStore["getOrder"]> {
    return this.inner.getOrder(orderId);
  }

  getProduct(productId: string): ReturnType<OrderStore["getProduct"]> {
    return this.inner.getProduct(productId);
  }

  async putOrder(order: OrderItem): Promise<PutOrderResult> {
    const existing = await this.inner.getOrder(order.OrderId);
    return existing === undefined ? { written: true } : { written: false, existing };
  }

  async releaseClaim(productId: string, orderId: string): Promise<boolean> {
    const product = await this.inner.getProduct(productId);
    return product?.ProductStatus === "SOLD" && product.SoldToOrderId === orderId;
  }
}

export interface RepairOptions {
  /** Read and report what would be written or released, writing nothing. @default false */
  readonly dryRun?: boolean;
}

/** Ids of every SOLD product, following pages. */
async function soldProductIds(doc: DynamoDBDocumentClient, table: string): Promise<string[]> {
  const ids: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await dynamo(() =>
      doc.send(
        new ScanCommand({
          TableName: table,
          ProjectionExpression: "ProductId",
          FilterExpression: "ProductStatus = :sold",
          ExpressionAttributeValues: { ":sold": "SOLD" },
          ExclusiveStartKey: start,
        }),
      ),
    );
    for (const item of out.Items ?? []) ids.push(item.ProductId as string);
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return ids;
}

/** Repairs the given products one after another, or every SOLD product when none are given. */
export async function repairSalesWith(
  store: OrderStore,
  productIds: Iterable<string>,
): Promise<RepairReport> {
  const report = emptyReport();
  for (const id of productIds) report[await repairSale(store, id)].push(id);
  return report;
}

/**
 * Repairs one region's sales: `productIds`, or every SOLD product (a scan) when omitted. Each
 * product is re-read with a strongly consistent read before anything is written. Idempotent: a
 * second run reports only `order-exists` and `no-claim`. With `dryRun` it writes nothing and
 * reports the outcomes a real run would have (as of the moment it looked).
 */
export async function repairSales(
  doc: DynamoDBDocumentClient,
  tables: OrderReadTables,
  productIds?: Iterable<string>,
  opts: RepairOptions = {},
): Promise<RepairReport> {
  const ids = productIds ?? (await soldProductIds(doc, tables.products));
  const store = new DynamoOrderStore(doc, tables);
  return repairSalesWith(opts.dryRun === true ? new DryRunOrderStore(store) : store, ids);
}
