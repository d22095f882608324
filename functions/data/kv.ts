/** `KvStore` over DynamoDB: one item per key in the kv table. */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { KvItem, KvStore } from "../domain/kv";
import { dynamo } from "./errors";

export class DynamoKvStore implements KvStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(item: KvItem): Promise<void> {
    await dynamo(() => this.doc.send(new PutCommand({ TableName: this.table, Item: item })));
  }

  async get(key: string): Promise<KvItem | undefined> {
    const out = await dynamo(() =>
      this.doc.send(
        new GetCommand({ TableName: this.table, Key: { Key: key }, ConsistentRead: true }),
      ),
    );
    return out.Item as KvItem | undefined;
  }
}
