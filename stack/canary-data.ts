/**
 * The canaries' own customer, product and order, as DynamoDB items of the global tables, written
 * by the stack that owns the tables (in its region; global tables replicate them to every other
 * region like any other write). The canaries read them by default, so every canary exists and can
 * pass from the first `pulumi up`, with no manual step.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { marshall } from "@aws-sdk/util-dynamodb";
import { CANARY_DATA_TABLES, canaryData } from "../functions/domain/canary-data";
import { tableSpec, type TableKey } from "../functions/tables";

/** One TableItem per canary item; each depends on its table through the table's name. */
export function canaryItems(
  region: string,
  tableNames: pulumi.Output<Record<TableKey, string>>,
): aws.dynamodb.TableItem[] {
  const data = canaryData(region);
  return CANARY_DATA_TABLES.map((table) => {
    const spec = tableSpec(table);
    return new aws.dynamodb.TableItem(`canary-data-${table}`, {
      region,
      tableName: tableNames.apply((names) => names[table]),
      hashKey: spec.hashKey,
      item: JSON.stringify(marshall(data[table])),
    });
  });
}
