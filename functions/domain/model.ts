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
