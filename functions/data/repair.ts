/**
 * The repair step over DynamoDB: every SOLD product of a region's tables ends SOLD to an order
 * that exists and is for it, or back IN_STOCK (see `repairSale`). For operators and drills (the
 * sandbox, the drill's verify, the reconciler); it scans the products table, so no API function
 * calls the scanning form.
 */
import { ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { repairSale, type OrderStore, type RepairOutcome } from "../domain/orders";
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
 * second run reports only `order-exists` and `no-claim`.
 */
export async function repairSales(
  doc: DynamoDBDocumentClient,
  tables: OrderReadTables,
  productIds?: Iterable<string>,
): Promise<RepairReport> {
  const ids = productIds ?? (await soldProductIds(doc, tables.products));
  return repairSalesWith(new DynamoOrderStore(doc, tables), ids);
}
