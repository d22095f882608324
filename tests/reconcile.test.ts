/**
 * The reconciler's rule (functions/domain/compensation.ts), adversarially: single records of every
 * odd kind, and a model of two or three regions selling one product, replicating with
 * last-writer-wins, and each region's reconciler handling its stream's records in any order,
 * duplicated and replayed, interleaved with the replication itself.
 */
import { expect } from "chai";
import * as fc from "fast-check";
import {
  CANCEL_REASON,
  compensate,
  confirm,
  decide,
  type Cancellation,
  type CancelOutcome,
  type CompensationStore,
  type ProductChange,
} from "../functions/domain/compensation";
import type { ProductItem } from "../functions/domain/model";
import { sameItemCondition } from "../local/streams";

const EAST = "us-east-1";
const WEST = "us-west-2";
const NOW = new Date("2026-11-29T12:00:00.000Z");

const sold = (orderId: string, region: string, productId = "p1"): Record<string, unknown> => ({
  ProductId: productId,
  ProductStatus: "SOLD",
  SoldToOrderId: orderId,
  SoldInRegion: region,
  SoldAt: "2026-11-29T11:59:59.000Z",
});
const inStock = { ProductId: "p1", ProductStatus: "IN_STOCK" };
const modify = (
  oldImage: Record<string, unknown> | undefined,
  newImage: Record<string, unknown> | undefined,
): ProductChange => ({ eventName: "MODIFY", oldImage, newImage });

/** A store over plain maps: one product state, orders by id. */
class MemoryStore implements CompensationStore {
  readonly cancels: Cancellation[] = [];
  constructor(
    public product: ProductItem | undefined,
    readonly orders = new Map<string, Record<string, unknown>>(),
  ) {}
  getProduct(): Promise<ProductItem | undefined> {
    return Promise.resolve(this.product);
  }
  cancel(c: Cancellation): Promise<CancelOutcome> {
    const o = this.orders.get(c.orderId);
    if (o?.OrderStatus === "CANCELLED") return Promise.resolve("already-cancelled");
    if (o !== undefined && o.ProductId !== c.productId) return Promise.resolve("other-product");
    this.orders.set(c.orderId, { ...o, OrderId: c.orderId, OrderStatus: "CANCELLED" });
    this.cancels.push(c);
    return Promise.resolve("cancelled");
  }
}

describe("reconciler rule: one record", () => {
  const cases: { name: string; change: ProductChange; region: string; cancels?: string }[] = [
    {
      name: "the product moved from an order this region sold to another order: cancel it",
      change: modify(sold("a", EAST), sold("b", WEST)),
      region: EAST,
      cancels: "a",
    },
    {
      name: "the same record seen by the other region (its sale is the new one): nothing",
      change: modify(sold("a", EAST), sold("b", WEST)),
      region: WEST,
    },
    {
      name: "the old sale was made elsewhere: nothing",
      change: modify(sold("a", WEST), sold("b", EAST)),
      region: EAST,
    },
    {
      name: "the same order id sold again by another region (a retry elsewhere): nothing",
      change: modify(sold("a", EAST), sold("a", WEST)),
      region: EAST,
    },
    {
      name: "a sale (IN_STOCK to SOLD): nothing",
      change: modify(inStock, sold("a", EAST)),
      region: EAST,
    },
    {
      name: "restocked (SOLD to IN_STOCK): nothing",
      change: modify(sold("a", EAST), inStock),
      region: EAST,
    },
    {
      name: "an INSERT of a sold product (fill, refill): nothing",
      change: { eventName: "INSERT", newImage: sold("a", EAST) },
      region: EAST,
    },
    {
      name: "a REMOVE: nothing",
      change: { eventName: "REMOVE", oldImage: sold("a", EAST) },
      region: EAST,
    },
    {
      name: "a MODIFY without images (KEYS_ONLY stream): nothing",
      change: modify(undefined, undefined),
      region: EAST,
    },
    {
      name: "images of two different products: nothing",
      change: modify(sold("a", EAST, "p1"), sold("b", WEST, "p2")),
      region: EAST,
    },
    {
      name: "a SOLD image without an order id (sold before sales were recorded): nothing",
      change: modify(
        { ProductId: "p1", ProductStatus: "SOLD", SoldInRegion: EAST },
        sold("b", WEST),
      ),
      region: EAST,
    },
    {
      name: "attributes of the wrong type: nothing",
      change: modify(
        { ProductId: 7, ProductStatus: "SOLD", SoldToOrderId: ["a"], SoldInRegion: EAST },
        sold("b", WEST),
      ),
      region: EAST,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decide(c.change, c.region);
      if (c.cancels === undefined) expect(d.kind).to.equal("skip");
      else {
        expect(d).to.deep.include({ kind: "cancel" });
        if (d.kind === "cancel") expect(d.displacement.loser.orderId).to.equal(c.cancels);
      }
    });
  }

  it("confirm: no cancellation when the product names the loser again (the sandbox's repair)", () => {
    const d = decide(modify(sold("a", EAST), sold("b", WEST)), EAST);
    if (d.kind !== "cancel") throw new Error("expected a cancel decision");
    expect(confirm(d.displacement, sold("a", EAST) as unknown as ProductItem).kind).to.equal(
      "skip",
    );
    // A third order holds it now: that one is named as the winner.
    const third = confirm(d.displacement, sold("c", "eu-west-1") as unknown as ProductItem);
    expect(third).to.deep.equal({
      kind: "cancel",
      displacement: { ...d.displacement, winnerOrderId: "c" },
    });
    // Restocked since: the record's winner stays.
    expect(confirm(d.displacement, inStock as unknown as ProductItem)).to.deep.equal(d);
  });

  it("compensate writes one cancellation with reason, winner, region and time; a redelivery writes none", async () => {
    const store = new MemoryStore(sold("b", WEST) as unknown as ProductItem);
    store.orders.set("a", { OrderId: "a", ProductId: "p1", OrderStatus: "CONFIRMED" });
    const change = modify(sold("a", EAST), sold("b", WEST));
    const clock = { region: EAST, now: () => NOW };
    const first = await compensate(store, change, clock);
    expect(first.outcome).to.equal("cancelled");
    expect(store.cancels).to.deep.equal([
      {
        orderId: "a",
        productId: "p1",
        winnerOrderId: "b",
        reason: CANCEL_REASON,
        region: EAST,
        at: NOW.toISOString(),
        soldInRegion: EAST,
        soldAt: "2026-11-29T11:59:59.000Z",
        customerId: undefined,
        total: undefined,
      },
    ]);
    expect((await compensate(store, change, clock)).outcome).to.equal("already-cancelled");
    expect(store.cancels).to.have.length(1);
  });
});

// ---- a model of N regions selling one product --------------------------------------------

interface Sale {
  readonly orderId: string;
  readonly region: string;
  /** Last-writer-wins version: write time, then region name. */
  readonly t: number;
}

const newer = (a: Sale, b: Sale | null): boolean =>
  b === null || a.t > b.t || (a.t === b.t && a.region > b.region);

const image = (s: Sale | null): Record<string, unknown> =>
  s === null ? inStock : sold(s.orderId, s.region);

type Op =
  | { kind: "sell"; r: number }
  | { kind: "deliver"; k: number }
  | { kind: "reconcile"; r: number; k: number }
  | { kind: "tick" };

const opArb = (regions: number): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({ kind: fc.constant("sell" as const), r: fc.nat(regions - 1) }),
    fc.record({ kind: fc.constant("deliver" as const), k: fc.nat(50) }),
    fc.record({
      kind: fc.constant("reconcile" as const),
      r: fc.nat(regions - 1),
      k: fc.nat(50),
    }),
    fc.constant({ kind: "tick" as const }),
  );

/** Runs the model; returns the final winner and every cancellation each region made. */
async function simulate(
  regionNames: readonly string[],
  ops: readonly Op[],
  flushOrder: readonly number[],
): Promise<{ winner: Sale | null; sold: Sale[]; cancels: Cancellation[] }> {
  let now = 0;
  const product = regionNames.map((): Sale | null => null);
  const streams = regionNames.map((): ProductChange[] => []);
  // Replicated writes not yet applied: [target region, sale].
  const inFlight: [number, Sale][] = [];
  const sales: Sale[] = [];
  const orders = new Map<string, Record<string, unknown>>();
  const cancels: Cancellation[] = [];
  const stores = regionNames.map((_, r) => {
    const s = new MemoryStore(undefined, orders);
    s.getProduct = () => Promise.resolve(image(product[r] ?? null) as unknown as ProductItem);
    const cancel = s.cancel.bind(s);
    s.cancel = async (c) => {
      const out = await cancel(c);
      if (out === "cancelled") cancels.push(c);
      return out;
    };
    return s;
  });
  const apply = (r: number, sale: Sale): void => {
    const before = product[r] ?? null;
    // Last writer wins, checked where the replicated write lands: monotonic per item.
    if (!newer(sale, before)) return;
    product[r] = sale;
    streams[r]?.push(modify(image(before), image(sale)));
  };
  const reconcile = async (r: number, k: number): Promise<void> => {
    const stream = streams[r] as ProductChange[];
    if (stream.length === 0) return;
    // Any record, again or out of order: redelivery, replays, parallel shards.
    const rec = stream[k % stream.length] as ProductChange;
    await compensate(stores[r] as MemoryStore, rec, {
      region: regionNames[r] as string,
      now: () => new Date(now),
    });
  };
  for (const op of ops) {
    now++;
    if (op.kind === "sell") {
      if (product[op.r] !== null) continue; // sold out in this region: the sale is refused
      const sale = { orderId: `o${sales.length}`, region: regionNames[op.r] as string, t: now };
      sales.push(sale);
      orders.set(sale.orderId, {
        OrderId: sale.orderId,
        ProductId: "p1",
        OrderStatus: "CONFIRMED",
      });
      apply(op.r, sale);
      regionNames.forEach((_, to) => {
        if (to !== op.r) inFlight.push([to, sale]);
      });
    } else if (op.kind === "deliver") {
      if (inFlight.length === 0) continue;
      const [[to, sale]] = inFlight.splice(op.k % inFlight.length, 1) as [[number, Sale]];
      apply(to, sale);
    } else if (op.kind === "reconcile") {
      await reconcile(op.r, op.k);
    }
  }
  // Convergence: every write delivered, then every record handled (in a shuffled order, twice).
  while (inFlight.length > 0) {
    const [to, sale] = inFlight.shift() as [number, Sale];
    apply(to, sale);
  }
  const all = streams.flatMap((s, r) => s.map((_, k) => [r, k] as const));
  const order = [...all.keys()].sort(
    (a, b) => (flushOrder[a % flushOrder.length] ?? 0) - (flushOrder[b % flushOrder.length] ?? 0),
  );
  for (const i of [...order, ...order]) {
    const [r, k] = all[i] as readonly [number, number];
    await reconcile(r, k);
  }
  const winners = new Set(product.map((p) => p?.orderId ?? null));
  expect(winners.size, "every region converged on one winner").to.equal(1);
  return { winner: product[0] ?? null, sold: sales, cancels };
}

describe("reconciler rule: interleavings of 2-3 regions' records (fast-check)", () => {
  for (const regions of [2, 3]) {
    it(`${regions} regions: the winner is never cancelled, every loser is cancelled exactly once`, async () => {
      const names = ["us-east-1", "us-west-2", "eu-west-1"].slice(0, regions);
      await fc.assert(
        fc.asyncProperty(
          fc.array(opArb(regions), { minLength: 1, maxLength: 60 }),
          fc.array(fc.integer(), { minLength: 1, maxLength: 20 }),
          async (ops, flushOrder) => {
            const { winner, sold: sales, cancels } = await simulate(names, ops, flushOrder);
            const cancelled = cancels.map((c) => c.orderId);
            // Exactly once: no order cancelled twice, however often its record came.
            expect(new Set(cancelled).size).to.equal(cancelled.length);
            // Never the winner; every other sold order.
            expect(cancelled).to.not.include(winner?.orderId);
            expect([...cancelled].sort()).to.deep.equal(
              sales
                .map((s) => s.orderId)
                .filter((id) => id !== winner?.orderId)
                .sort(),
            );
            for (const c of cancels) {
              // Only the region that sold an order cancels it, in favour of another order.
              expect(c.region).to.equal(sales.find((s) => s.orderId === c.orderId)?.region);
              expect(c.winnerOrderId).to.not.equal(c.orderId);
              // No two orders cancelled in favour of each other.
              expect(
                cancels.some((x) => x.orderId === c.winnerOrderId && x.winnerOrderId === c.orderId),
              ).to.equal(false);
            }
            // With two regions the named winner is the final one.
            if (regions === 2)
              for (const c of cancels) expect(c.winnerOrderId).to.equal(winner?.orderId);
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it("a case the model must produce: both regions sell, the older sale is cancelled by its own region", async () => {
    const names = [EAST, WEST];
    const { winner, cancels } = await simulate(
      names,
      [
        { kind: "sell", r: 0 },
        { kind: "sell", r: 1 },
      ],
      [0],
    );
    expect(winner).to.include({ orderId: "o1", region: WEST });
    expect(cancels.map((c) => [c.orderId, c.region, c.winnerOrderId])).to.deep.equal([
      ["o0", EAST, "o1"],
    ]);
  });
});

describe("sandbox replication: a replicated put only over what it knew (sameItemCondition)", () => {
  it("two contents with attributes in another order name each attribute once", () => {
    const c = sameItemCondition("K", [
      { K: { S: "1" }, A: { N: "1" } },
      { A: { N: "2" }, K: { S: "1" } },
    ]);
    expect(c.ExpressionAttributeNames).to.deep.equal({ "#k": "K", "#a0": "K", "#a1": "A" });
    expect(c.ConditionExpression).to.equal(
      "(attribute_exists(#k) AND #a0 = :v0_0 AND #a1 = :v0_1) OR " +
        "(attribute_exists(#k) AND #a1 = :v1_0 AND #a0 = :v1_1)",
    );
  });

  it("absent, or every scalar attribute equal; either of several contents", () => {
    expect(sameItemCondition("ProductId", [undefined])).to.deep.equal({
      ConditionExpression: "(attribute_not_exists(#k))",
      ExpressionAttributeNames: { "#k": "ProductId" },
    });
    const c = sameItemCondition("ProductId", [
      { ProductId: { S: "p1" }, ProductStatus: { S: "IN_STOCK" }, Tags: { SS: ["x"] } },
      undefined,
    ]);
    expect(c).to.deep.equal({
      ConditionExpression:
        "(attribute_exists(#k) AND #a0 = :v0_0 AND #a1 = :v0_1) OR (attribute_not_exists(#k))",
      ExpressionAttributeNames: { "#k": "ProductId", "#a0": "ProductId", "#a1": "ProductStatus" },
      ExpressionAttributeValues: { ":v0_0": { S: "p1" }, ":v0_1": { S: "IN_STOCK" } },
    });
  });
});
