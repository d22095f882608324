/**
 * The order service: place an order (idempotent on the order id) and read one back. Storage is
 * behind `OrderWriter` and `OrderReader`, implemented over DynamoDB in `functions/data/orders.ts`.
 */
import * as z from "zod/mini";
import { DomainError } from "./errors";
import { ORDER_TOTAL, type Clock, type OrderItem, type ProductItem } from "./model";
import { idSchema } from "./validation";

/** A validated request to place an order. */
export interface PlaceOrderInput {
  readonly customerId: string;
  readonly productId: string;
  /** Client-chosen id for an idempotent retry; a new ULID when absent. */
  readonly orderId?: string | undefined;
}

/** The fields of `POST /orders`, in the query string or a JSON body. */
export const PLACE_ORDER_FIELDS = ["customerId", "productId", "orderId"] as const;

/** Schema of the merged (query + body) input of `POST /orders`. */
export const placeOrderSchema = z.strictObject({
  customerId: idSchema(),
  productId: idSchema(),
  orderId: z.optional(idSchema()),
});

/**
 * Thrown by `OrderStore.place` when an order with the same id already exists, so the service can
 * tell an idempotent retry from an id reused for something else.
 */
export class OrderExistsError extends Error {
  override readonly name = "OrderExistsError";
  constructor(readonly existing: OrderItem) {
    super(`order ${existing.OrderId} already exists`);
  }
}

export interface OrderWriter {
  /**
   * Atomically: the customer exists, the product goes IN_STOCK -> SOLD, the order is created.
   * Throws `OrderExistsError`, or a DomainError (CustomerNotFound, ProductNotFound,
   * ProductSoldOut, ServiceUnavailable); writes nothing when it throws.
   */
  place(order: OrderItem): Promise<void>;
}

export interface OrderReader {
  /** Order and product read together in one consistent snapshot. */
  getOrderAndProduct(
    orderId: string,
    productId: string,
  ): Promise<{ order?: OrderItem | undefined; product?: ProductItem | undefined }>;
  getOrder(orderId: string): Promise<OrderItem | undefined>;
  getProduct(productId: string): Promise<ProductItem | undefined>;
}

/** The order a request would create, before storage decides whether it can. */
export function newOrder(input: PlaceOrderInput, clock: Clock): OrderItem {
  return {
    OrderId: input.orderId ?? clock.newId(),
    ProductId: input.productId,
    CustomerId: input.customerId,
    OrderStatus: "CONFIRMED",
    OrderTotal: ORDER_TOTAL,
    CreatedAt: clock.now().toISOString(),
    CreatedInRegion: clock.region,
  };
}

/**
 * Whether an existing order is what a retried request asked for. Only the client-chosen content
 * counts: time and region legitimately differ between the original and its retry.
 */
export function isSameOrder(existing: OrderItem, input: PlaceOrderInput): boolean {
  return existing.CustomerId === input.customerId && existing.ProductId === input.productId;
}

export interface PlacedOrder {
  /** False when the order already existed and this was an idempotent retry. */
  readonly created: boolean;
  readonly order: OrderItem;
}

/**
 * Places an order. A retry with the same order id and content returns the existing order and
 * sells nothing twice; the same id with other content is an OrderConflict.
 */
export async function placeOrder(
  store: OrderWriter,
  input: PlaceOrderInput,
  clock: Clock,
): Promise<PlacedOrder> {
  const order = newOrder(input, clock);
  try {
    await store.place(order);
    return { created: true, order };
  } catch (err) {
    if (!(err instanceof OrderExistsError)) throw err;
    if (isSameOrder(err.existing, input)) return { created: false, order: err.existing };
    throw new DomainError(
      "OrderConflict",
      `order ${order.OrderId} already exists for another customer or product`,
    );
  }
}

/** The sale a product records, as an order read returns it. */
export interface SaleView {
  readonly orderId: string;
  readonly region: string;
  readonly at: string;
  /**
   * Whether the product names this order. False means another order holds the product: with
   * eventual consistency two regions can each sell it, and the last write wins the product.
   */
  readonly thisOrder: boolean;
}

export interface OrderView {
  readonly order: OrderItem;
  /** Null only if the product was deleted after the order was placed. */
  readonly product: ProductItem | null;
  /** The sale the product records; null when it records none (deleted, or sold before sales were recorded). */
  readonly sale: SaleView | null;
}

function orderNotFound(orderId: string, productId?: string): DomainError {
  const suffix = productId === undefined ? "" : ` for product ${productId}`;
  return new DomainError("OrderNotFound", `order ${orderId}${suffix} not found`);
}

/** What the product says about who bought it, seen from `order`. */
export function saleView(order: OrderItem, product: ProductItem | undefined): SaleView | null {
  const { SoldToOrderId: orderId, SoldInRegion: region, SoldAt: at } = product ?? {};
  if (product?.ProductStatus !== "SOLD" || !orderId || !region || !at) return null;
  return { orderId, region, at, thisOrder: orderId === order.OrderId };
}

function view(order: OrderItem, product: ProductItem | undefined): OrderView {
  return { order, product: product ?? null, sale: saleView(order, product) };
}

/**
 * Reads an order with its product and the sale the product records. With `productId` (the seed's
 * query form) both are read in one transaction, and an order for a different product counts as
 * not found.
 */
export async function readOrder(
  store: OrderReader,
  orderId: string,
  productId?: string,
): Promise<OrderView> {
  if (productId !== undefined) {
    const { order, product } = await store.getOrderAndProduct(orderId, productId);
    if (!order || order.ProductId !== productId) throw orderNotFound(orderId, productId);
    return view(order, product);
  }
  const order = await store.getOrder(orderId);
  if (!order) throw orderNotFound(orderId);
  return view(order, await store.getProduct(order.ProductId));
}
