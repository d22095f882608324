/**
 * The order service: place an order (idempotent on the order id), read one back, and repair a sale
 * interrupted between its two writes. Storage is behind `SaleStore`/`OrderStore`, implemented over
 * DynamoDB in `functions/data/orders.ts`.
 */
import * as z from "zod/mini";
import { DomainError } from "./errors";
import { ORDER_TOTAL, orderFromSale, type Clock, type OrderItem, type ProductItem } from "./model";
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

/** What a claim on a product answered. */
export type ClaimResult =
  | { readonly claimed: true }
  /** The product was not IN_STOCK: as it is now, or undefined when it does not exist. */
  | { readonly claimed: false; readonly product: ProductItem | undefined };

/** What an order put answered. */
export type PutOrderResult =
  | { readonly written: true }
  /** An order with that id already existed: it, unchanged. */
  | { readonly written: false; readonly existing: OrderItem };

/**
 * The single-item operations a sale, a read and a repair are made of. Each is one conditional
 * write or one strongly consistent read, so the same path works on MRSC tables (which refuse
 * transactions) and on eventual (MREC) ones. Implemented over DynamoDB in
 * `functions/data/orders.ts`; failures are DomainErrors (ServiceUnavailable when transient).
 */
export interface OrderStore {
  getOrder(orderId: string): Promise<OrderItem | undefined>;
  getProduct(productId: string): Promise<ProductItem | undefined>;
  /** Creates the order unless one with its id exists (then returns that one). */
  putOrder(order: OrderItem): Promise<PutOrderResult>;
  /**
   * Puts a SOLD product claimed by `orderId` back IN_STOCK and removes the claim; false when the
   * product is not (or no longer) claimed by that order.
   */
  releaseClaim(productId: string, orderId: string): Promise<boolean>;
}

export interface SaleStore extends OrderStore {
  customerExists(customerId: string): Promise<boolean>;
  /**
   * The sale's one conditional write: the product goes IN_STOCK -> SOLD recording `saleOf(order)`
   * (the order's whole content). Never creates a product.
   */
  claimProduct(order: OrderItem): Promise<ClaimResult>;
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

function sameItem(a: OrderItem, b: OrderItem): boolean {
  return (
    a.OrderId === b.OrderId &&
    isSameOrder(a, { customerId: b.CustomerId, productId: b.ProductId }) &&
    a.CreatedAt === b.CreatedAt &&
    a.CreatedInRegion === b.CreatedInRegion &&
    a.OrderTotal === b.OrderTotal
  );
}

export interface PlacedOrder {
  /** False when an earlier request with this order id made the sale (an idempotent retry). */
  readonly created: boolean;
  readonly order: OrderItem;
}

function orderConflict(orderId: string): DomainError {
  return new DomainError(
    "OrderConflict",
    `order ${orderId} already exists for another customer or product`,
  );
}

/**
 * An order with the request's id exists: the same content is an idempotent retry; other content
 * is a conflict, and a claim this id left on the requested product (an earlier attempt that lost
 * the id to another product) is released first.
 */
async function answerExisting(
  store: OrderStore,
  existing: OrderItem,
  input: PlaceOrderInput,
): Promise<PlacedOrder> {
  if (isSameOrder(existing, input)) return { created: false, order: existing };
  if (existing.ProductId !== input.productId) {
    await store.releaseClaim(input.productId, existing.OrderId);
  }
  throw orderConflict(existing.OrderId);
}

/**
 * Why a claim failed, or the order an earlier attempt with this id claimed the product for (a
 * retry completes that order, with the original time and region).
 */
async function explainFailedClaim(
  store: SaleStore,
  order: OrderItem,
  input: PlaceOrderInput,
  product: ProductItem | undefined,
): Promise<OrderItem | PlacedOrder> {
  if (product === undefined) {
    throw new DomainError("ProductNotFound", `product ${order.ProductId} not found`);
  }
  if (product.SoldToOrderId === order.OrderId) {
    const earlier = orderFromSale(product);
    if (earlier !== undefined && isSameOrder(earlier, input)) return earlier;
    throw orderConflict(order.OrderId);
  }
  // Sold to another order. The order may still exist (created since our first read, or, with
  // eventual consistency, its product later taken by another region's sale).
  const existing = await store.getOrder(order.OrderId);
  if (existing !== undefined) return answerExisting(store, existing, input);
  throw new DomainError("ProductSoldOut", `product ${order.ProductId} is sold out`);
}

/**
 * Places an order without transactions:
 * 1. strongly consistent reads of the order id and the customer (an existing order answers at
 *    once: 200 for the same content, 409 for other content);
 * 2. one conditional write claims the product for the order, recording its content;
 * 3. an idempotent order put (absent, or already this order).
 * A retry that finds its own claim (an earlier attempt died after step 2) completes that order.
 * When the order id was taken for another product between steps 1 and 3 (two requests with one
 * id at once), this request releases its claim and answers 409: no product stays claimed by an
 * order that is for another product.
 */
export async function placeOrder(
  store: SaleStore,
  input: PlaceOrderInput,
  clock: Clock,
): Promise<PlacedOrder> {
  const order = newOrder(input, clock);
  const [existing, customerFound] = await Promise.all([
    store.getOrder(order.OrderId),
    store.customerExists(order.CustomerId),
  ]);
  if (existing !== undefined) return answerExisting(store, existing, input);
  if (!customerFound) {
    throw new DomainError("CustomerNotFound", `customer ${order.CustomerId} not found`);
  }
  const claim = await store.claimProduct(order);
  let sale = order;
  if (!claim.claimed) {
    const found = await explainFailedClaim(store, order, input, claim.product);
    if ("created" in found) return found;
    sale = found;
  }
  const put = await store.putOrder(sale);
  if (put.written) return { created: claim.claimed, order: sale };
  if (isSameOrder(put.existing, input)) {
    return { created: claim.claimed && sameItem(put.existing, sale), order: put.existing };
  }
  // Another request took this order id for another product first: undo our claim.
  await store.releaseClaim(sale.ProductId, sale.OrderId);
  throw orderConflict(sale.OrderId);
}

/** What `repairSale` found and did. */
export type RepairOutcome =
  /** The product is not SOLD or names no order: nothing to repair. */
  | "no-claim"
  /** The order the product names exists, for this product. */
  | "order-exists"
  /** The order was missing: written from the claim. */
  | "order-written"
  /** The order id belongs to an order for another product: the claim was released (IN_STOCK). */
  | "claim-released"
  /** The claim changed while we looked (another request or repair acted): run again to check. */
  | "claim-changed"
  /** SOLD naming a missing order, but the product does not record the order's content (legacy). */
  | "not-rebuildable";

/**
 * Turns a claim into its order, or releases it: given a product, leaves it either not SOLD, or
 * SOLD to an order that exists and is for it (or reports `not-rebuildable` for a legacy item).
 * Idempotent; safe to run at any time in strong mode. In eventual mode run it after replication
 * converged: a release is conditional, but the condition is checked in one region.
 */
export async function repairSale(store: OrderStore, productId: string): Promise<RepairOutcome> {
  const product = await store.getProduct(productId);
  const orderId = product?.ProductStatus === "SOLD" ? product.SoldToOrderId : undefined;
  if (product === undefined || orderId === undefined) return "no-claim";
  const release = async (): Promise<RepairOutcome> =>
    (await store.releaseClaim(productId, orderId)) ? "claim-released" : "claim-changed";
  const order = await store.getOrder(orderId);
  if (order !== undefined) return order.ProductId === productId ? "order-exists" : release();
  const rebuilt = orderFromSale(product);
  if (rebuilt === undefined) return "not-rebuildable";
  const put = await store.putOrder(rebuilt);
  if (put.written) return "order-written";
  return put.existing.ProductId === productId ? "order-exists" : release();
}

/**
 * The read path's repair: when `product` is claimed by `orderId` and that order was never
 * written, writes it from the claim (idempotent) and returns it; otherwise undefined.
 */
async function orderFromClaim(
  store: OrderStore,
  orderId: string,
  product: ProductItem,
): Promise<OrderItem | undefined> {
  if (product.SoldToOrderId !== orderId) return undefined;
  const rebuilt = orderFromSale(product);
  if (rebuilt === undefined) return undefined;
  const put = await store.putOrder(rebuilt);
  if (put.written) return rebuilt;
  return put.existing.ProductId === product.ProductId ? put.existing : undefined;
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
 * Reads an order with its product and the sale the product records, with strongly consistent
 * single-item reads. With `productId` (the seed's query form) both are read at once; an order for
 * a different product counts as not found, and a product claimed by `orderId` whose order was
 * never written (the sale died between claim and order) is turned into that order. Without it,
 * the order must exist: the product is only known from the order.
 */
export async function readOrder(
  store: OrderStore,
  orderId: string,
  productId?: string,
): Promise<OrderView> {
  if (productId !== undefined) {
    const [order, product] = await Promise.all([
      store.getOrder(orderId),
      store.getProduct(productId),
    ]);
    const found =
      order ?? (product === undefined ? undefined : await orderFromClaim(store, orderId, product));
    if (!found || found.ProductId !== productId) throw orderNotFound(orderId, productId);
    return view(found, product);
  }
  const order = await store.getOrder(orderId);
  if (!order) throw orderNotFound(orderId);
  return view(order, await store.getProduct(order.ProductId));
}
