/**
 * Data anomalies, from the data's point of view: what the clients were told (the ledger of
 * acknowledged orders) against what every surviving region holds after replication converged.
 * Pure, so each anomaly can be built on purpose in a test.
 *
 * - doubleSold: a product with more than one acknowledged order still stored (two customers were
 *   told they bought it, and both orders exist);
 * - resold: a product sold again (acknowledged) after an acknowledged order for it was lost;
 * - overwrittenAcknowledged: an acknowledged order whose stored content differs from what the
 *   client was told (another write with the same order id won last-writer-wins); a cancellation
 *   by conflict compensation (status and the Cancel* fields) is not an overwrite (compensation.ts
 *   counts those);
 * - soldWithoutOrder: a SOLD product whose recorded order is missing or is for another product
 *   (or, with no recorded order, no order at all points at it);
 * - lostAcknowledged: an acknowledged order missing from a surviving region.
 */

/** An order as stored or as returned by `POST /orders`. */
export type OrderRecord = Readonly<Record<string, unknown>> & {
  readonly OrderId: string;
  readonly ProductId: string;
};

/** A product as stored. */
export type ProductRecord = Readonly<Record<string, unknown>> & {
  readonly ProductId: string;
  readonly ProductStatus?: unknown;
  readonly SoldToOrderId?: unknown;
};

/** One acknowledged answer to `POST /orders` (201 or 200): what the client was told. */
export interface AckedOrder {
  readonly orderId: string;
  readonly productId: string;
  /** The response body: the order as the client was told it. */
  readonly order: OrderRecord;
  /** Ms since the run started when the answer arrived. */
  readonly at: number;
  readonly servedBy?: string | undefined;
}

/** One region's tables, read in full after convergence. */
export interface RegionTables {
  readonly orders: readonly OrderRecord[];
  readonly products: readonly ProductRecord[];
}

export interface AnomalyInput {
  readonly ledger: readonly AckedOrder[];
  /** Every surviving region's tables. */
  readonly tables: Readonly<Record<string, RegionTables>>;
  /** The products the drill used; others in the tables (sample data) are not looked at. */
  readonly products: ReadonlySet<string>;
}

export interface DoubleSale {
  readonly productId: string;
  readonly orderIds: string[];
}

export interface Resale {
  readonly productId: string;
  readonly lostOrderIds: string[];
  /** Acknowledged orders for the product answered after the first lost one. */
  readonly resoldOrderIds: string[];
}

export interface Overwrite {
  readonly orderId: string;
  readonly region: string;
  readonly acknowledged: OrderRecord;
  readonly stored: OrderRecord;
}

export interface OrphanSale {
  readonly productId: string;
  readonly region: string;
  readonly soldToOrderId: string | null;
  readonly reason: string;
}

export interface Anomalies {
  readonly doubleSold: { readonly count: number; readonly products: DoubleSale[] };
  readonly resold: { readonly count: number; readonly products: Resale[] };
  readonly overwrittenAcknowledged: { readonly count: number; readonly orders: Overwrite[] };
  readonly soldWithoutOrder: { readonly count: number; readonly products: OrphanSale[] };
  readonly lostAcknowledged: {
    readonly count: number;
    readonly orderIds: string[];
    readonly byRegion: Record<string, string[]>;
  };
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k) ?? [];
    list.push(item);
    out.set(k, list);
  }
  return out;
}

const sorted = (ids: Iterable<string>): string[] => [...new Set(ids)].sort();

/** Same attributes with the same values (orders hold only strings and numbers). */
function sameContent(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => JSON.stringify(a[k]) === JSON.stringify(b[k]));
}

/** The fields conflict compensation writes when it cancels an order. */
const COMPENSATION_FIELDS = [
  "CancelReason",
  "CancelledInFavourOf",
  "CancelledByRegion",
  "CancelledAt",
];

/** An order as it was before compensation cancelled it (unchanged if it did not). */
export function beforeCompensation(o: OrderRecord): OrderRecord {
  if (o.OrderStatus !== "CANCELLED" || typeof o.CancelledInFavourOf !== "string") return o;
  const out: Record<string, unknown> = { ...o, OrderStatus: "CONFIRMED" };
  for (const f of COMPENSATION_FIELDS) delete out[f];
  return out as OrderRecord;
}

/** Acknowledged order ids missing from each region's orders table. */
export function lostAcknowledged(input: AnomalyInput): Anomalies["lostAcknowledged"] {
  const acked = sorted(input.ledger.map((a) => a.orderId));
  const byRegion: Record<string, string[]> = {};
  for (const [region, t] of Object.entries(input.tables)) {
    const present = new Set(t.orders.map((o) => o.OrderId));
    byRegion[region] = acked.filter((id) => !present.has(id));
  }
  const orderIds = sorted(Object.values(byRegion).flat());
  return { count: orderIds.length, orderIds, byRegion };
}

function doubleSold(input: AnomalyInput, lost: ReadonlySet<string>): Anomalies["doubleSold"] {
  const products: DoubleSale[] = [];
  for (const [productId, acks] of groupBy(input.ledger, (a) => a.productId)) {
    const standing = sorted(acks.map((a) => a.orderId).filter((id) => !lost.has(id)));
    if (standing.length > 1) products.push({ productId, orderIds: standing });
  }
  products.sort((a, b) => a.productId.localeCompare(b.productId));
  return { count: products.length, products };
}

function resold(input: AnomalyInput, lost: ReadonlySet<string>): Anomalies["resold"] {
  const products: Resale[] = [];
  for (const [productId, acks] of groupBy(input.ledger, (a) => a.productId)) {
    const lostAcks = acks.filter((a) => lost.has(a.orderId));
    if (lostAcks.length === 0) continue;
    const firstLostAt = Math.min(...lostAcks.map((a) => a.at));
    const lostIds = new Set(lostAcks.map((a) => a.orderId));
    const again = acks.filter((a) => a.at > firstLostAt && !lostIds.has(a.orderId));
    if (again.length === 0) continue;
    products.push({
      productId,
      lostOrderIds: sorted(lostIds),
      resoldOrderIds: sorted(again.map((a) => a.orderId)),
    });
  }
  products.sort((a, b) => a.productId.localeCompare(b.productId));
  return { count: products.length, products };
}

function overwritten(input: AnomalyInput): Anomalies["overwrittenAcknowledged"] {
  const orders: Overwrite[] = [];
  const stored = Object.entries(input.tables).map(
    ([region, t]) => [region, new Map(t.orders.map((o) => [o.OrderId, o]))] as const,
  );
  const seen = new Set<string>();
  for (const ack of input.ledger) {
    // The same answer twice (a retried read of one version) is one acknowledgement.
    const version = JSON.stringify(ack.order, Object.keys(ack.order).sort());
    if (seen.has(version)) continue;
    seen.add(version);
    for (const [region, byId] of stored) {
      const now = byId.get(ack.orderId);
      if (now === undefined) continue;
      if (sameContent(beforeCompensation(now), beforeCompensation(ack.order))) continue;
      orders.push({ orderId: ack.orderId, region, acknowledged: ack.order, stored: now });
      break;
    }
  }
  orders.sort((a, b) => a.orderId.localeCompare(b.orderId));
  return { count: orders.length, orders };
}

function soldWithoutOrder(input: AnomalyInput): Anomalies["soldWithoutOrder"] {
  const products: OrphanSale[] = [];
  for (const [region, t] of Object.entries(input.tables)) {
    const orders = new Map(t.orders.map((o) => [o.OrderId, o]));
    const ordered = new Set(t.orders.map((o) => o.ProductId));
    for (const p of t.products) {
      if (p.ProductStatus !== "SOLD" || !input.products.has(p.ProductId)) continue;
      const buyer = typeof p.SoldToOrderId === "string" ? p.SoldToOrderId : null;
      let reason: string | undefined;
      if (buyer === null) {
        if (!ordered.has(p.ProductId)) reason = "no order is for this product";
      } else {
        const order = orders.get(buyer);
        if (order === undefined) reason = `its order ${buyer} is missing`;
        else if (order.ProductId !== p.ProductId)
          reason = `its order ${buyer} is for product ${order.ProductId}`;
      }
      if (reason !== undefined)
        products.push({ productId: p.ProductId, region, soldToOrderId: buyer, reason });
    }
  }
  products.sort(
    (a, b) => a.productId.localeCompare(b.productId) || a.region.localeCompare(b.region),
  );
  // A product counts once, however many regions show it.
  return { count: new Set(products.map((p) => p.productId)).size, products };
}

/** Every anomaly, with the ids involved. */
export function findAnomalies(input: AnomalyInput): Anomalies {
  const lost = lostAcknowledged(input);
  const lostIds = new Set(lost.orderIds);
  return {
    doubleSold: doubleSold(input, lostIds),
    resold: resold(input, lostIds),
    overwrittenAcknowledged: overwritten(input),
    soldWithoutOrder: soldWithoutOrder(input),
    lostAcknowledged: lost,
  };
}

/** One line per anomaly, for progress output and the text report. */
export function anomalyCounts(a: Anomalies): string {
  return (
    `double-sold ${a.doubleSold.count}, resold ${a.resold.count}, ` +
    `overwritten acknowledged ${a.overwrittenAcknowledged.count}, ` +
    `sold without order ${a.soldWithoutOrder.count}, lost acknowledged ${a.lostAcknowledged.count}`
  );
}
