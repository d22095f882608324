/**
 * The canaries' own data: one customer, one product and one order that bought it, written by the
 * stack that owns the tables (as items, replicated like any other data) so that every canary can
 * pass from the first `pulumi up`. The items are ordinary ones, shaped exactly as `POST /fill`
 * writes an order (the order's product is SOLD and records nothing else), so the read routes serve
 * them like any client's and no load or drill can buy the canary's product.
 */
import type { CustomerItem, OrderItem, ProductItem } from "./model";
import { ORDER_TOTAL } from "./model";
import type { TableKey } from "../tables";

/** Ids of the canary's items; `canaryOrderId`/`canaryProductId` default to these. */
export const CANARY_CUSTOMER_ID = "canary-customer";
export const CANARY_PRODUCT_ID = "canary-product";
export const CANARY_ORDER_ID = "canary-order";
/**
 * Creation time the items carry: fixed, so a second `pulumi up` sees no change to them.
 */
export const CANARY_DATA_CREATED_AT = "2026-01-01T00:00:00.000Z";

export interface CanaryData {
  readonly customers: CustomerItem;
  readonly products: ProductItem;
  readonly orders: OrderItem;
}

/** The canary's items, written in `region` (the primary's: where the order was "placed"). */
export function canaryData(region: string): CanaryData {
  return {
    customers: { CustomerId: CANARY_CUSTOMER_ID, CreatedAt: CANARY_DATA_CREATED_AT },
    products: {
      ProductId: CANARY_PRODUCT_ID,
      ProductStatus: "SOLD",
      CreatedAt: CANARY_DATA_CREATED_AT,
    },
    orders: {
      OrderId: CANARY_ORDER_ID,
      ProductId: CANARY_PRODUCT_ID,
      CustomerId: CANARY_CUSTOMER_ID,
      OrderStatus: "CONFIRMED",
      OrderTotal: ORDER_TOTAL,
      CreatedAt: CANARY_DATA_CREATED_AT,
      CreatedInRegion: region,
    },
  };
}

/** The tables that hold canary items, in the order they are written (referenced items first). */
export const CANARY_DATA_TABLES: readonly (keyof CanaryData & TableKey)[] = [
  "customers",
  "products",
  "orders",
];
