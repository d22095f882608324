/** Reading whole tables back in tests: snapshots to prove nothing was written, and seeding. */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { TABLES, type TableKey } from "../../functions/tables";

export type Item = Record<string, unknown>;

/** Every item of a table (following pages), sorted by its key so snapshots compare exactly. */
export async function scanAll(client: DynamoDBClient, table: string): Promise<Item[]> {
  const doc = DynamoDBDocumentClient.from(client);
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...((out.Items ?? []) as Item[]));
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** The contents of every table, by logical name. */
export async function snapshot(
  client: DynamoDBClient,
  tables: Record<TableKey, string>,
): Promise<Record<TableKey, Item[]>> {
  const out = {} as Record<TableKey, Item[]>;
  for (const { key } of TABLES) out[key] = await scanAll(client, tables[key]);
  return out;
}

/** Writes items straight into a table, bypassing the API. */
export async function putItems(
  client: DynamoDBClient,
  table: string,
  items: readonly Item[],
): Promise<void> {
  const doc = DynamoDBDocumentClient.from(client);
  for (const item of items) await doc.send(new PutCommand({ TableName: table, Item: item }));
}
