/**
 * Conflict compensation in eventual mode. Two regions can each sell a product inside the
 * replication window; last-writer-wins then gives the product to one order in every region, and
 * the other order must be cancelled, once, and by exactly one kind of decision everywhere.
 *
 * The rule (applied to each change of a product in a region's stream):
 * - a region acts only on a change whose OLD image is a sale made in that region
 *   (`SoldInRegion` = this region) and whose NEW image is a sale to another order: the product
 *   moved away from an order this region sold. Last-writer-wins is monotonic per item in every
 *   region (a replica applies a replicated write only when it is newer), so the order that finally
 *   holds the product never loses it anywhere: only losers are ever seen moving away, and only by
 *   the region that sold them. Two regions can therefore never cancel different orders of one
 *   product in favour of each other.
 * - before cancelling, the region reads the product again (strongly consistent, in its own
 *   region): if it names the loser again, the move was not final and nothing is done. On AWS this
 *   never happens; in the sandbox a replicated write can land on top of a newer local write for a
 *   moment before the replicator puts the newer one back (local/replicator.ts, "repair").
 * - a product set back IN_STOCK (or deleted) is not a sale to another order: nothing is
 *   cancelled, and a later sale of it is a new sale, not a conflict.
 * - the cancellation is one conditional write on the losing order: status not already CANCELLED,
 *   so a redelivered or replayed record changes nothing. An order that does not exist yet (a sale
 *   whose order write has not landed) is written as a cancelled tombstone that a late order write
 *   finds: it only creates orders that do not exist, and the tombstone carries the claim's
 *   content (customer, total, time, region), so that write answers with this cancelled order.
 *
 * Pure: the stream record comes in as plain (unmarshalled) images, storage is behind
 * `CompensationStore`.
 */
import type { Clock, ProductItem } from "./model";

/** The reason a cancelled order records. */
export const CANCEL_REASON =
  "another region sold the same product at the same time; the product went to the other order";

/** A product stream record, reduced to what compensation needs (images unmarshalled). */
export interface ProductChange {
  readonly eventName?: string | undefined;
  readonly oldImage?: Readonly<Record<string, unknown>> | undefined;
  readonly newImage?: Readonly<Record<string, unknown>> | undefined;
}

/** A sale as a product image records it. */
export interface RecordedSale {
  readonly productId: string;
  readonly orderId: string;
  readonly region?: string | undefined;
  readonly at?: string | undefined;
  /** The order's customer and total, which the claim records (absent on older items). */
  readonly customerId?: string | undefined;
  readonly total?: number | undefined;
}

/** A loser to cancel: the order this region sold and the order that took the product. */
export interface Displacement {
  readonly loser: RecordedSale;
  readonly winnerOrderId: string;
}

export type Decision =
  | { readonly kind: "cancel"; readonly displacement: Displacement }
  | { readonly kind: "skip"; readonly reason: string };

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The sale a product image records, if the image is a SOLD product naming an order. */
export function saleIn(image: Readonly<Record<string, unknown>> | undefined): RecordedSale | null {
  if (image === undefined || image === null || typeof image !== "object") return null;
  const productId = str(image.ProductId);
  const orderId = str(image.SoldToOrderId);
  if (image.ProductStatus !== "SOLD" || productId === undefined || orderId === undefined) {
    return null;
  }
  return {
    productId,
    orderId,
    region: str(image.SoldInRegion),
    at: str(image.SoldAt),
    customerId: str(image.SoldToCustomerId),
    total: typeof image.SoldOrderTotal === "number" ? image.SoldOrderTotal : undefined,
  };
}

const skip = (reason: string): Decision => ({ kind: "skip", reason });

/** What `region` must do about one change of a product, from the record alone. */
export function decide(change: ProductChange, region: string): Decision {
  if (change.eventName !== undefined && change.eventName !== "MODIFY") {
    return skip(`${change.eventName} is not a change of a sale`);
  }
  const before = saleIn(change.oldImage);
  if (before === null) return skip("the old image is not a sale");
  if (before.region !== region) return skip(`the old sale was made in ${before.region ?? "?"}`);
  const after = saleIn(change.newImage);
  if (after === null) return skip("the new image is not a sale (restocked or removed)");
  if (after.productId !== before.productId) return skip("the images are of different products");
  if (after.orderId === before.orderId) return skip("the same order holds the product");
  return { kind: "cancel", displacement: { loser: before, winnerOrderId: after.orderId } };
}

/**
 * Checks a displacement against the product as this region holds it now: no cancellation when it
 * names the loser again; otherwise the winner is the order it names now (closer to the final one
 * than the record's, with three regions), else the record's.
 */
export function confirm(d: Displacement, current: ProductItem | undefined): Decision {
  const now = saleIn(current as Readonly<Record<string, unknown>> | undefined);
  if (now?.orderId === d.loser.orderId) return skip("the product names the order again");
  return {
    kind: "cancel",
    displacement: now === null ? d : { ...d, winnerOrderId: now.orderId },
  };
}

/** The one write that cancels an order. */
export interface Cancellation {
  readonly orderId: string;
  readonly productId: string;
  readonly winnerOrderId: string;
  readonly reason: string;
  readonly region: string;
  readonly at: string;
  /** Written only when the order does not exist yet (a tombstone). */
  readonly soldInRegion?: string | undefined;
  readonly soldAt?: string | undefined;
  readonly customerId?: string | undefined;
  readonly total?: number | undefined;
}

/** What a cancellation found: done now, done before (redelivery), or an order of another product. */
export type CancelOutcome = "cancelled" | "already-cancelled" | "other-product";

export interface CompensationStore {
  /** The product, read strongly consistent in this region. */
  getProduct(productId: string): Promise<ProductItem | undefined>;
  /** Cancels the order unless it is already cancelled or is for another product. */
  cancel(c: Cancellation): Promise<CancelOutcome>;
}

export type Outcome = CancelOutcome | "skipped";

/** Applies the rule to one change: decides, confirms against the product, cancels. */
export async function compensate(
  store: CompensationStore,
  change: ProductChange,
  clock: Pick<Clock, "region" | "now">,
): Promise<{ outcome: Outcome; reason?: string; cancellation?: Cancellation }> {
  const first = decide(change, clock.region);
  if (first.kind === "skip") return { outcome: "skipped", reason: first.reason };
  const checked = confirm(
    first.displacement,
    await store.getProduct(first.displacement.loser.productId),
  );
  if (checked.kind === "skip") return { outcome: "skipped", reason: checked.reason };
  const { loser, winnerOrderId } = checked.displacement;
  const cancellation: Cancellation = {
    orderId: loser.orderId,
    productId: loser.productId,
    winnerOrderId,
    reason: CANCEL_REASON,
    region: clock.region,
    at: clock.now().toISOString(),
    soldInRegion: loser.region,
    soldAt: loser.at,
    customerId: loser.customerId,
    total: loser.total,
  };
  return { outcome: await store.cancel(cancellation), cancellation };
}
