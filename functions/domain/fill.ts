/**
 * Sample data for load tests and drills (`POST /fill`): plan which customers, products and orders
 * to write, and split the writes into BatchWriteItem-sized batches.
 *
 * Coherence rules, so every order reads back like one placed through `POST /orders`:
 * - the requested products are IN_STOCK and are the ones returned, so a load generator can buy
 *   every returned product;
 * - each order gets its own extra product, written as SOLD (naming its order) and not returned
 *   in `products` (read it through the order);
 * - orders go round-robin to the requested customers; when no customers are requested but
 *   orders are, one extra customer is created for them and returned in `customers`.
 */
import type { Clock, CustomerItem, OrderItem, ProductItem } from "./model";
import { ORDER_TOTAL, saleOf } from "./model";
import { badRequest } from "./errors";
import type { TableKey } from "../tables";

/** Most items of one kind a single fill may create (keeps a call well inside the timeout). */
export const FILL_MAX_PER_KIND = 1000;

/** DynamoDB's BatchWriteItem limit on requests per call. */
export const BATCH_WRITE_MAX_ITEMS = 25;

export interface FillCounts {
  readonly cust: number;
  readonly product: number;
  readonly order: number;
}

/** The query parameters of `POST /fill`, as in the seed sample. */
export const FILL_PARAMS = ["cust", "product", "order"] as const;

/** One item to put, by logical table. */
export interface PutRequest {
  readonly table: TableKey;
  readonly item: CustomerItem | ProductItem | OrderItem;
}

export interface FillPlan {
  readonly customers: readonly CustomerItem[];
  /** The requested products, IN_STOCK. */
  readonly products: readonly ProductItem[];
  /** One SOLD product per order. */
  readonly soldProducts: readonly ProductItem[];
  readonly orders: readonly OrderItem[];
}

/** What `POST /fill` returns: the ids a client can use. */
export interface FillResult {
  readonly customers: string[];
  readonly products: string[];
  readonly orders: string[];
}

/** Rejects counts a fill must not attempt. Each count is already a whole number. */
export function checkFillCounts(counts: FillCounts): FillCounts {
  if (counts.cust + counts.product + counts.order === 0) {
    throw badRequest("cust, product and order", "must not all be 0");
  }
  return counts;
}

/** Decides every item a fill writes. Pure: ids and time come from `clock`. */
export function planFill(counts: FillCounts, clock: Clock): FillPlan {
  const createdAt = clock.now().toISOString();
  const customer = (): CustomerItem => ({ CustomerId: clock.newId(), CreatedAt: createdAt });
  const product = (): ProductItem => ({
    ProductId: clock.newId(),
    ProductStatus: "IN_STOCK",
    CreatedAt: createdAt,
  });

  const customerCount = counts.cust > 0 ? counts.cust : counts.order > 0 ? 1 : 0;
  const customers = Array.from({ length: customerCount }, customer);
  const products = Array.from({ length: counts.product }, product);
  const orders = Array.from({ length: counts.order }, (_, i): OrderItem => {
    const buyer = customers[i % customers.length] as CustomerItem;
    return {
      OrderId: clock.newId(),
      ProductId: clock.newId(),
      CustomerId: buyer.CustomerId,
      OrderStatus: "CONFIRMED",
      OrderTotal: ORDER_TOTAL,
      CreatedAt: createdAt,
      CreatedInRegion: clock.region,
    };
  });
  // Each order's product, SOLD and naming its order, as a sale through `POST /orders` leaves it.
  const soldProducts = orders.map((o): ProductItem => ({
    ProductId: o.ProductId,
    ProductStatus: "SOLD",
    CreatedAt: createdAt,
    ...saleOf(o),
  }));
  return { customers, products, soldProducts, orders };
}

/**
 * The puts of a plan, customers and products before the orders that reference them, so a fill
 * cut short by an error leaves no order pointing at a missing item.
 */
export function fillWrites(plan: FillPlan): PutRequest[] {
  return [
    ...plan.customers.map((item) => ({ table: "customers" as const, item })),
    ...plan.products.map((item) => ({ table: "products" as const, item })),
    ...plan.soldProducts.map((item) => ({ table: "products" as const, item })),
    ...plan.orders.map((item) => ({ table: "orders" as const, item })),
  ];
}

export function fillResult(plan: FillPlan): FillResult {
  return {
    customers: plan.customers.map((c) => c.CustomerId),
    products: plan.products.map((p) => p.ProductId),
    orders: plan.orders.map((o) => o.OrderId),
  };
}

/** Splits items, in order, into consecutive batches of at most `size`. */
export function planBatches<T>(items: readonly T[], size: number = BATCH_WRITE_MAX_ITEMS): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`batch size must be >= 1: got ${size}`);
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

export interface FillStore {
  /** Writes every request, in batches, retrying unprocessed items; not atomic. */
  putAll(requests: readonly PutRequest[]): Promise<void>;
}

/**
 * Creates the sample items and returns their ids. Not atomic: if storage gives up part-way, the
 * error surfaces and the items already written stay (they are valid on their own).
 */
export async function fill(
  store: FillStore,
  counts: FillCounts,
  clock: Clock,
): Promise<FillResult> {
  const plan = planFill(checkFillCounts(counts), clock);
  await store.putAll(fillWrites(plan));
  return fillResult(plan);
}
