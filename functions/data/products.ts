/** `ProductStore` over DynamoDB: GetItem and a paged Scan of the products table. */
import { GetCommand, ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { ProductItem } from "../domain/model";
import type { ProductKey, ProductStore } from "../domain/products";
import { dynamo } from "./errors";

export class DynamoProductStore implements ProductStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(productId: string): Promise<ProductItem | undefined> {
    const out = await dynamo(() =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { ProductId: productId } })),
    );
    return out.Item as ProductItem | undefined;
  }

  async scan(
    limit: number,
    startKey: ProductKey | undefined,
  ): Promise<{ items: ProductItem[]; lastKey?: ProductKey }> {
    const out = await dynamo(() =>
      this.doc.send(
        new ScanCommand({
          TableName: this.table,
          Limit: limit,
          ...(startKey ? { ExclusiveStartKey: { ProductId: startKey.ProductId } } : {}),
        }),
      ),
    );
    const items = (out.Items ?? []) as ProductItem[];
    const last = out.LastEvaluatedKey?.ProductId;
    return typeof last === "string" ? { items, lastKey: { ProductId: last } } : { items };
  }
}
