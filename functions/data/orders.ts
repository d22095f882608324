/**
 * `OrderWriter` and `OrderReader` over DynamoDB: the seed's TransactWriteItems for a sale and TransactGetItems for a
 * read, with cancellation reasons translated into domain errors.
 */
import type { AttributeValue, CancellationReason } from "@aws-sdk/client-dynamodb";
import {
  GetCommand,
  TransactGetCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { DomainError } from "../domain/errors";
import { saleOf, type OrderItem, type ProductItem } from "../domain/model";
import { OrderExistsError, type OrderReader, type OrderWriter } from "../domain/orders";
import { dynamo, translateSdkError, unavailableBecause } from "./errors";

/** Tables an order read uses. */
export interface OrderReadTables {
  readonly products: string;
  readonly orders: string;
}

/** Tables a sale uses. */
export interface OrderWriteTables extends OrderReadTables {
  readonly customers: string;
}

/** Index of each item in the sale transaction; cancellation reasons come back in this order. */
const CUSTOMER = 0;
const PRODUCT = 1;
const ORDER = 2;

const CONDITION_FAILED = "ConditionalCheckFailed";

interface TransactionCanceled {
  name: "TransactionCanceledException";
  CancellationReasons?: CancellationReason[];
}

function isTransactionCanceled(err: unknown): err is TransactionCanceled {
  return (err as { name?: unknown } | null)?.name === "TransactionCanceledException";
}

export class DynamoOrderWriter implements OrderWriter {
  private readonly reader: DynamoOrderReader;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: OrderWriteTables,
  ) {
    this.reader = new DynamoOrderReader(doc, tables);
  }

  async place(order: OrderItem): Promise<void> {
    const sale = saleOf(order);
    const command = new TransactWriteCommand({
      TransactItems: [
        {
          ConditionCheck: {
            TableName: this.tables.customers,
            Key: { CustomerId: order.CustomerId },
            ConditionExpression: "attribute_exists(CustomerId)",
          },
        },
        {
          Update: {
            TableName: this.tables.products,
            Key: { ProductId: order.ProductId },
            // The product records the sale in the write that sells it, so a SOLD product always
            // names its order (in the region that sold it; replication may later disagree).
            UpdateExpression:
              "SET ProductStatus = :sold, SoldToOrderId = :order, SoldInRegion = :region, SoldAt = :at",
            // Also false for a missing product, so the update never creates one.
            ConditionExpression: "ProductStatus = :inStock",
            ExpressionAttributeValues: {
              ":sold": "SOLD",
              ":inStock": "IN_STOCK",
              ":order": sale.SoldToOrderId,
              ":region": sale.SoldInRegion,
              ":at": sale.SoldAt,
            },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          },
        },
        {
          Put: {
            TableName: this.tables.orders,
            Item: order,
            ConditionExpression: "attribute_not_exists(OrderId)",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          },
        },
      ],
    });
    try {
      await this.doc.send(command);
    } catch (err) {
      if (!isTransactionCanceled(err)) throw translateSdkError(err);
      throw await this.explainCancellation(order, err.CancellationReasons ?? []);
    }
  }

  /**
   * Decides which condition sank the sale. An existing order wins: a retried request finds its
   * product already SOLD (by itself), and must still be recognised as the same order.
   */
  private async explainCancellation(
    order: OrderItem,
    reasons: CancellationReason[],
  ): Promise<Error> {
    const failed = (i: number): boolean => reasons[i]?.Code === CONDITION_FAILED;
    if (failed(ORDER)) {
      const existing =
        asItem<OrderItem>(reasons[ORDER]?.Item) ?? (await this.reader.getOrder(order.OrderId));
      // Deleted between the failure and the read: transient, a retry will decide.
      if (!existing) return unavailableBecause("conflict");
      return new OrderExistsError(existing);
    }
    if (failed(CUSTOMER)) {
      return new DomainError("CustomerNotFound", `customer ${order.CustomerId} not found`);
    }
    if (failed(PRODUCT)) {
      return reasons[PRODUCT]?.Item === undefined
        ? new DomainError("ProductNotFound", `product ${order.ProductId} not found`)
        : new DomainError("ProductSoldOut", `product ${order.ProductId} is sold out`);
    }
    // No condition failed: a conflicting transaction, throttling, or a bug (ValidationError).
    const codes = reasons.map((r) => r.Code).filter((c) => c !== undefined && c !== "None");
    if (codes.includes("TransactionConflict")) return unavailableBecause("conflict");
    if (codes.includes("ThrottlingError") || codes.includes("ProvisionedThroughputExceeded")) {
      return unavailableBecause("throttled");
    }
    return new Error(`order transaction canceled: ${codes.join(", ") || "no reason given"}`);
  }
}

export class DynamoOrderReader implements OrderReader {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: OrderReadTables,
  ) {}

  async getOrderAndProduct(
    orderId: string,
    productId: string,
  ): Promise<{ order?: OrderItem; product?: ProductItem }> {
    const out = await dynamo(() =>
      this.doc.send(
        new TransactGetCommand({
          TransactItems: [
            { Get: { TableName: this.tables.products, Key: { ProductId: productId } } },
            { Get: { TableName: this.tables.orders, Key: { OrderId: orderId } } },
          ],
        }),
      ),
    );
    const [product, order] = out.Responses ?? [];
    return {
      ...(product?.Item ? { product: product.Item as ProductItem } : {}),
      ...(order?.Item ? { order: order.Item as OrderItem } : {}),
    };
  }

  async getOrder(orderId: string): Promise<OrderItem | undefined> {
    const out = await dynamo(() =>
      this.doc.send(
        new GetCommand({
          TableName: this.tables.orders,
          Key: { OrderId: orderId },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item as OrderItem | undefined;
  }

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
}

/** Cancellation reasons carry raw attribute values: the document client does not convert errors. */
function asItem<T>(item: Record<string, AttributeValue> | undefined): T | undefined {
  return item === undefined ? undefined : (unmarshall(item) as T);
}
