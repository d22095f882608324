/**
 * `CompensationStore` over DynamoDB: a strongly consistent GetItem of the product and one
 * conditional UpdateItem that cancels the losing order (or writes its cancelled tombstone).
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { Cancellation, CancelOutcome, CompensationStore } from "../domain/compensation";
import type { ProductItem } from "../domain/model";
import { dynamo, translateSdkError } from "./errors";

export interface CompensationTables {
  readonly products: string;
  readonly orders: string;
}

/**
 * The update that cancels an order. SET on a missing item creates it, so an order whose write has
 * not landed yet becomes a tombstone: its key, product, the sale's region and time and (when the
 * claim recorded them) its customer and total, status CANCELLED. `if_not_exists` keeps an existing order's
 * own content. The condition makes the write happen once: never over a cancelled order, never on
 * an order of another product.
 */
export function cancelUpdate(tables: CompensationTables, c: Cancellation) {
  const values: Record<string, unknown> = {
    ":cancelled": "CANCELLED",
    ":reason": c.reason,
    ":winner": c.winnerOrderId,
    ":region": c.region,
    ":at": c.at,
    ":product": c.productId,
  };
  const sets = [
    "OrderStatus = :cancelled",
    "CancelReason = :reason",
    "CancelledInFavourOf = :winner",
    "CancelledByRegion = :region",
    "CancelledAt = :at",
    "ProductId = if_not_exists(ProductId, :product)",
  ];
  const keep = (attr: string, value: string | number | undefined): void => {
    if (value === undefined) return;
    values[`:${attr}`] = value;
    sets.push(`${attr} = if_not_exists(${attr}, :${attr})`);
  };
  keep("CreatedInRegion", c.soldInRegion);
  keep("CreatedAt", c.soldAt);
  keep("CustomerId", c.customerId);
  keep("OrderTotal", c.total);
  return new UpdateCommand({
    TableName: tables.orders,
    Key: { OrderId: c.orderId },
    UpdateExpression: `SET ${sets.join(", ")}`,
    ConditionExpression:
      "attribute_not_exists(OrderId) OR (OrderStatus <> :cancelled AND ProductId = :product)",
    ExpressionAttributeValues: values,
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
  });
}

function conditionFailedItem(err: unknown): Record<string, unknown> | undefined | null {
  const e = err as { name?: unknown; Item?: Record<string, AttributeValue> } | null;
  if (e?.name !== "ConditionalCheckFailedException") return null;
  return e.Item === undefined ? undefined : unmarshall(e.Item);
}

export class DynamoCompensationStore implements CompensationStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: CompensationTables,
  ) {}

  async getProduct(productId: string): Promise<ProductItem | undefined> {
    const out = await dynamo(() =>
      this.doc.send(
        new GetCommand({
          TableName: this.tables.products,
          Key: { ProductId: productId },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item as ProductItem | undefined;
  }

  async cancel(c: Cancellation): Promise<CancelOutcome> {
    try {
      await this.doc.send(cancelUpdate(this.tables, c));
      return "cancelled";
    } catch (err) {
      const old = conditionFailedItem(err);
      if (old === null) throw translateSdkError(err);
      // Without the old item (an older engine), read it: the condition only fails on an item.
      const item = old ?? (await this.getOrder(c.orderId));
      return item?.OrderStatus === "CANCELLED" ? "already-cancelled" : "other-product";
    }
  }

  private async getOrder(orderId: string): Promise<Record<string, unknown> | undefined> {
    const out = await dynamo(() =>
      this.doc.send(
        new GetCommand({
          TableName: this.tables.orders,
          Key: { OrderId: orderId },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item;
  }
}
