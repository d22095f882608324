/**
 * The canaries' own customer, product and order, as DynamoDB items of the global tables, written
 * by the stack that owns the tables (in its region; global tables replicate them to every other
 * region like any other write). The canaries read them by default, so every canary exists and can
 * pass from the first `pulumi up`, with no manual step.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { canaryItemJson } from "../functions/data/canary-items";
import { CANARY_DATA_TABLES } from "../functions/domain/canary-data";
import { tableSpec, type TableKey } from "../functions/tables";

/** One TableItem per canary item; each depends on its table through the table's name. */
export function canaryItems(
  region: string,
  tableNames: pulumi.Output<Record<TableKey, string>>,
): aws.dynamodb.TableItem[] {
  const items = canaryItemJson(region);
  return CANARY_DATA_TABLES.map(
    (table) =>
      new aws.dynamodb.TableItem(`canary-data-${table}`, {
        region,
        tableName: tableNames.apply((names) => names[table]),
        hashKey: tableSpec(table).hashKey,
        item: items[table],
      }),
  );
}
