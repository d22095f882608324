/**
 * `OrderStore` and `SaleStore` over DynamoDB, with single-item operations only: MRSC global tables
 * refuse TransactWriteItems and TransactGetItems, so a sale is a conditional claim on the product
 * and an idempotent order put (see `placeOrder`), and every read is a strongly consistent GetItem.
 * Conditional failures come back with the item as it is (`ReturnValuesOnConditionCheckFailure`),
 * so deciding why a write failed costs no extra read.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { SALE_ATTRIBUTES, saleOf, type OrderItem, type ProductItem } from "../domain/model";
import type { ClaimResult, OrderStore, PutOrderResult, SaleStore } from "../domain/orders";
import { dynamo, unavailableBecause } from "./errors";

/** Tables an order read (and a repair) uses. */
export interface OrderReadTables {
  readonly products: string;
  readonly orders: string;
}

/** Tables a sale uses. */
export interface OrderWriteTables extends OrderReadTables {
  readonly customers: string;
}

interface ConditionFailed {
  name: "ConditionalCheckFailedException";
  /** Raw attribute values: the document client does not convert errors. */
  Item?: Record<string, AttributeValue>;
}

function isConditionFailed(err: unknown): err is ConditionFailed {
  return (err as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}

/**
 * Runs a conditional write: undefined when it succeeded, the item as it was when its condition
 * failed (`null` when the failure carried no item: it did not exist). Other failures are
 * translated (`dynamo`).
 */
async function conditional<T>(write: () => Promise<unknown>): Promise<T | null | undefined> {
  try {
    await dynamo(write);
    return undefined;
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
    return err.Item === undefined ? null : (unmarshall(err.Item) as T);
  }
}

export class DynamoOrderStore implements OrderStore {
  constructor(
    protected readonly doc: DynamoDBDocumentClient,
    protected readonly tables: OrderReadTables,
  ) {}

  async getOrder(orderId: string): Promise<OrderItem | undefined> {
    return (await this.get(this.tables.orders, { OrderId: orderId })) as OrderItem | undefined;
  }

  async getProduct(productId: string): Promise<ProductItem | undefined> {
    return (await this.get(this.tables.products, { ProductId: productId })) as
      ProductItem | undefined;
  }

  async putOrder(order: OrderItem): Promise<PutOrderResult> {
    const existing = await conditional<OrderItem>(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.tables.orders,
          Item: order,
          ConditionExpression: "attribute_not_exists(OrderId)",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      ),
    );
    if (existing === undefined) return { written: true };
    const found = existing ?? (await this.getOrder(order.OrderId));
    // Deleted between the failure and the read: transient, a retry will decide.
    if (found === undefined) throw unavailableBecause("conflict");
    return { written: false, existing: found };
  }

  async releaseClaim(productId: string, orderId: string): Promise<boolean> {
    const failed = await conditional<ProductItem>(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tables.products,
          Key: { ProductId: productId },
          UpdateExpression: `SET ProductStatus = :inStock REMOVE ${SALE_ATTRIBUTES.join(", ")}`,
          // Also false for a missing product, so the update never creates one.
          ConditionExpression: "ProductStatus = :sold AND SoldToOrderId = :order",
          ExpressionAttributeValues: { ":inStock": "IN_STOCK", ":sold": "SOLD", ":order": orderId },
        }),
      ),
    );
    return failed === undefined;
  }

  protected async get(
    table: string,
    key: Record<string, string>,
  ): Promise<Record<string, unknown> | undefined> {
    const out = await dynamo(() =>
      this.doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true })),
    );
    return out.Item;
  }
}

export class DynamoSaleStore extends DynamoOrderStore implements SaleStore {
  constructor(
    doc: DynamoDBDocumentClient,
    private readonly writeTables: OrderWriteTables,
  ) {
    super(doc, writeTables);
  }

  async customerExists(customerId: string): Promise<boolean> {
    return (await this.get(this.writeTables.customers, { CustomerId: customerId })) !== undefined;
  }

  async claimProduct(order: OrderItem): Promise<ClaimResult> {
    const sale = saleOf(order);
    const names = Object.keys(sale) as (keyof typeof sale)[];
    const failed = await conditional<ProductItem>(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tables.products,
          Key: { ProductId: order.ProductId },
          // The product records the whole order in the write that sells it, so a SOLD product
          // always names its order and can rebuild it if the order put never happens.
          UpdateExpression: `SET ProductStatus = :sold, ${names.map((n) => `${n} = :${n}`).join(", ")}`,
          // Also false for a missing product, so the update never creates one.
          ConditionExpression: "ProductStatus = :inStock",
          ExpressionAttributeValues: {
            ":sold": "SOLD",
            ":inStock": "IN_STOCK",
            ...Object.fromEntries(names.map((n) => [`:${n}`, sale[n]])),
          },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      ),
    );
    if (failed === undefined) return { claimed: true };
    return { claimed: false, product: failed ?? undefined };
  }
}
