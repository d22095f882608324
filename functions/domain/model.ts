/**
 * Items as stored in DynamoDB and returned by the API. Attribute names are the seed sample's
 * (CustomerId, ProductId, OrderId, ProductStatus, ...), so its scripts, collections and
 * dashboards keep reading them unchanged.
 */

export type ProductStatus = "IN_STOCK" | "SOLD";

export interface CustomerItem {
  readonly CustomerId: string;
  readonly CreatedAt: string;
}

export interface ProductItem {
  readonly ProductId: string;
  readonly ProductStatus: ProductStatus;
  readonly CreatedAt?: string;
  /**
   * On a SOLD product, the sale (the claim) that sold it, written by the one conditional write
   * that set SOLD: the order, the region that sold it, when, and the rest of the order's content
   * (customer, total), enough to rebuild the order if its own write never happened. Absent on
   * items written before sales were recorded; the customer and total are absent on items written
   * before claims carried the order's content.
   */
  readonly SoldToOrderId?: string;
  readonly SoldInRegion?: string;
  readonly SoldAt?: string;
  readonly SoldToCustomerId?: string;
  readonly SoldOrderTotal?: number;
}

/**
 * The sale a SOLD product records (its claim): what an order read, the repair step and the drill
 * check an order against.
 */
export interface SaleRecord {
  readonly SoldToOrderId: string;
  readonly SoldInRegion: string;
  readonly SoldAt: string;
  readonly SoldToCustomerId: string;
  readonly SoldOrderTotal: number;
}

/** Attribute names of a sale on a product item (what a release removes). */
export const SALE_ATTRIBUTES: readonly (keyof SaleRecord)[] = [
  "SoldToOrderId",
  "SoldInRegion",
  "SoldAt",
  "SoldToCustomerId",
  "SoldOrderTotal",
];

/** The sale fields of a product sold by `order`. */
export function saleOf(order: OrderItem): SaleRecord {
  return {
    SoldToOrderId: order.OrderId,
    SoldInRegion: order.CreatedInRegion,
    SoldAt: order.CreatedAt,
    SoldToCustomerId: order.CustomerId,
    SoldOrderTotal: order.OrderTotal,
  };
}

/**
 * The order a SOLD product's claim describes, exactly as the sale would have written it; undefined
 * when the product records no complete claim (not sold, or written before claims carried the
 * order's content).
 */
export function orderFromSale(product: ProductItem): OrderItem | undefined {
  const { SoldToOrderId, SoldInRegion, SoldAt, SoldToCustomerId, SoldOrderTotal } = product;
  if (product.ProductStatus !== "SOLD") return undefined;
  if (!SoldToOrderId || !SoldInRegion || !SoldAt || !SoldToCustomerId) return undefined;
  if (typeof SoldOrderTotal !== "number") return undefined;
  return {
    OrderId: SoldToOrderId,
    ProductId: product.ProductId,
    CustomerId: SoldToCustomerId,
    OrderStatus: "CONFIRMED",
    OrderTotal: SoldOrderTotal,
    CreatedAt: SoldAt,
    CreatedInRegion: SoldInRegion,
  };
}

export interface OrderItem {
  readonly OrderId: string;
  readonly ProductId: string;
  readonly CustomerId: string;
  readonly OrderStatus: "CONFIRMED";
  readonly OrderTotal: number;
  /** ISO-8601 time the serving region accepted the order. */
  readonly CreatedAt: string;
  /** Region whose API served the order: tells a drill which side of a failover wrote it. */
  readonly CreatedInRegion: string;
}

/** Every order costs the same, as in the seed sample. */
export const ORDER_TOTAL = 100;

/** What a domain function needs from its caller that is not input: where and when it runs. */
export interface Clock {
  readonly region: string;
  now(): Date;
  newId(): string;
}
