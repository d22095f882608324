/**
 * The canary's items in DynamoDB's own JSON (attribute values), as the stack that owns the tables
 * writes them with `aws.dynamodb.TableItem`: the same encoding the document client uses, so the
 * read routes see exactly what `POST /fill` would have written.
 */
import { marshall } from "@aws-sdk/util-dynamodb";
import { CANARY_DATA_TABLES, canaryData } from "../domain/canary-data";

export type CanaryTable = (typeof CANARY_DATA_TABLES)[number];

/** DynamoDB JSON of each canary item, by table. */
export function canaryItemJson(region: string): Record<CanaryTable, string> {
  const data = canaryData(region);
  return {
    customers: JSON.stringify(marshall(data.customers)),
    products: JSON.stringify(marshall(data.products)),
    orders: JSON.stringify(marshall(data.orders)),
  };
}
