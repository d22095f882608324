/**
 * Conflict compensation, from the data's point of view (pure): of the products the clients were
 * told two different orders bought (double sales before compensation), how many every surviving
 * region has resolved (the product names one order, every other acknowledged order of it is
 * CANCELLED, the named one is not), how many are still outstanding, and how long after the second
 * acknowledgement the cancellation came.
 */
import { summarize, type Summary } from "../stats";
import type { AckedOrder, OrderRecord, RegionTables } from "./anomalies";

export interface OutstandingSale {
  readonly productId: string;
  readonly region: string;
  /** The order the product names in that region (null: it names none). */
  readonly winner: string | null;
  readonly reason: string;
}

export interface CompensationReport {
  /** Products acknowledged to two or more orders that are still stored (before compensation). */
  readonly doubleSales: number;
  /** Of those, resolved in every surviving region. */
  readonly compensated: number;
  /** Of those, not resolved in some surviving region (must be 0 after convergence). */
  readonly outstanding: number;
  /** Acknowledged orders cancelled by compensation. */
  readonly cancelledOrders: number;
  /** Orders the product names that are cancelled anyway (each also makes its product outstanding). */
  readonly winnersCancelled: number;
  /** Ms from a product's second acknowledgement to its last loser's cancellation. */
  readonly msToCancel: Summary;
  readonly outstandingProducts: readonly OutstandingSale[];
}

export interface CompensationInput {
  readonly ledger: readonly AckedOrder[];
  readonly tables: Readonly<Record<string, RegionTables>>;
  /** Acknowledged orders lost with a region: they neither win nor need cancelling. */
  readonly lost: ReadonlySet<string>;
  /** Epoch ms the run started (ledger times are relative to it). */
  readonly t0: number;
}

const isCancelled = (o: OrderRecord | undefined): boolean => o?.OrderStatus === "CANCELLED";

/** Epoch ms of an order's cancellation, if it records one. */
function cancelledAt(o: OrderRecord | undefined): number | undefined {
  const at = typeof o?.CancelledAt === "string" ? Date.parse(o.CancelledAt) : NaN;
  return Number.isFinite(at) ? at : undefined;
}

/** Why a product's double sale is not resolved in one region; undefined when it is. */
function unresolved(
  productId: string,
  orderIds: readonly string[],
  t: RegionTables,
): { winner: string | null; reason: string } | undefined {
  const product = t.products.find((p) => p.ProductId === productId);
  const winner =
    product?.ProductStatus === "SOLD" && typeof product.SoldToOrderId === "string"
      ? product.SoldToOrderId
      : null;
  const orders = new Map(t.orders.map((o) => [o.OrderId, o]));
  if (winner !== null && isCancelled(orders.get(winner))) {
    return { winner, reason: `the order the product names, ${winner}, is cancelled` };
  }
  const open = orderIds.filter((id) => id !== winner && !isCancelled(orders.get(id)));
  if (open.length > 0) {
    return { winner, reason: `not cancelled: ${open.join(", ")}` };
  }
  return undefined;
}

export function findCompensation(input: CompensationInput): CompensationReport {
  const byProduct = new Map<string, AckedOrder[]>();
  for (const a of input.ledger) {
    if (input.lost.has(a.orderId)) continue;
    byProduct.set(a.productId, [...(byProduct.get(a.productId) ?? []), a]);
  }
  let doubleSales = 0;
  let compensated = 0;
  const cancelled = new Set<string>();
  const winnersCancelled = new Set<string>();
  const outstandingProducts: OutstandingSale[] = [];
  const ms: number[] = [];
  for (const [productId, acks] of byProduct) {
    // When each order was first acknowledged: the second of those makes it a double sale.
    const firstAck = new Map<string, number>();
    for (const a of acks) firstAck.set(a.orderId, Math.min(a.at, firstAck.get(a.orderId) ?? a.at));
    if (firstAck.size < 2) continue;
    doubleSales++;
    const orderIds = [...firstAck.keys()].sort();
    const problems: OutstandingSale[] = [];
    for (const [region, t] of Object.entries(input.tables)) {
      const u = unresolved(productId, orderIds, t);
      if (u !== undefined) problems.push({ productId, region, ...u });
      if (u?.reason.startsWith("the order the product names") && u.winner !== null) {
        winnersCancelled.add(u.winner);
      }
    }
    // The earliest time any region records for each cancelled order: it was cancelled once.
    const cancelTimes = new Map<string, number>();
    for (const t of Object.values(input.tables)) {
      for (const o of t.orders) {
        if (!firstAck.has(o.OrderId) || !isCancelled(o)) continue;
        cancelled.add(o.OrderId);
        const at = cancelledAt(o);
        if (at !== undefined)
          cancelTimes.set(o.OrderId, Math.min(at, cancelTimes.get(o.OrderId) ?? at));
      }
    }
    if (problems.length > 0) {
      outstandingProducts.push(...problems);
      continue;
    }
    compensated++;
    const second = [...firstAck.values()].sort((a, b) => a - b)[1] as number;
    if (cancelTimes.size > 0) ms.push(Math.max(...cancelTimes.values()) - input.t0 - second);
  }
  outstandingProducts.sort(
    (a, b) => a.productId.localeCompare(b.productId) || a.region.localeCompare(b.region),
  );
  return {
    doubleSales,
    compensated,
    outstanding: doubleSales - compensated,
    cancelledOrders: cancelled.size,
    winnersCancelled: winnersCancelled.size,
    msToCancel: summarize(ms),
    outstandingProducts,
  };
}

/** One line for progress output and the text report. */
export function compensationLine(c: CompensationReport): string {
  return (
    `double sales ${c.doubleSales}, compensated ${c.compensated}, outstanding ${c.outstanding} ` +
    `(${c.cancelledOrders} orders cancelled, ${c.winnersCancelled} winners cancelled); ` +
    `second acknowledgement to cancellation p50 ${c.msToCancel.p50 ?? "-"} ms, ` +
    `p99 ${c.msToCancel.p99 ?? "-"} ms`
  );
}
