/**
 * The drill's anomaly computation, each anomaly built on purpose from a crafted ledger (what the
 * clients were told) and crafted region tables (what replication left), and a clean run that
 * shows none.
 */
import { expect } from "chai";
import {
  anomalyCounts,
  findAnomalies,
  type AckedOrder,
  type AnomalyInput,
  type OrderRecord,
  type ProductRecord,
  type RegionTables,
} from "../local/drill/anomalies";
import { isContended } from "../local/drill/load";
import { soldBefore } from "../local/drill/under-fault";
import type { ApiCall, ApiResult, DrillTarget } from "../local/drill/target";
import { checkData, readRegions, repairData, repairLine, settleData } from "../local/drill/verify";
import { repairCounts, repairSalesWith } from "../functions/data/repair";
import type { OrderItem, ProductItem } from "../functions/domain/model";
import type { OrderStore } from "../functions/domain/orders";
import { compensationLine, findCompensation } from "../local/drill/compensation";

const EAST = "us-east-1";
const WEST = "us-west-2";

function order(id: string, productId: string, region = EAST, customer = "c1"): OrderRecord {
  return {
    OrderId: id,
    ProductId: productId,
    CustomerId: customer,
    OrderStatus: "CONFIRMED",
    OrderTotal: 100,
    CreatedAt: `2026-01-01T00:00:0${id.length % 10}.000Z`,
    CreatedInRegion: region,
  };
}

function sold(productId: string, o: OrderRecord): ProductRecord {
  return {
    ProductId: productId,
    ProductStatus: "SOLD",
    SoldToOrderId: o.OrderId,
    SoldInRegion: o.CreatedInRegion,
    SoldAt: o.CreatedAt,
  };
}

function ack(o: OrderRecord, at: number): AckedOrder {
  return { orderId: o.OrderId, productId: o.ProductId, order: o, at, servedBy: EAST };
}

/** The same tables in every region: what a converged pair of regions holds. */
function everywhere(t: RegionTables): Record<string, RegionTables> {
  return { [EAST]: t, [WEST]: t };
}

function input(
  ledger: AckedOrder[],
  tables: Record<string, RegionTables>,
  products = ["p1", "p2", "p3"],
): AnomalyInput {
  return { ledger, tables, products: new Set(products) };
}

describe("drill anomalies (pure)", () => {
  it("a clean run has no anomaly of any kind", () => {
    const o1 = order("o1", "p1");
    const o2 = order("o2", "p2", WEST);
    const a = findAnomalies(
      input(
        [ack(o1, 10), ack(o2, 20), ack(o1, 30)],
        everywhere({
          orders: [o1, o2],
          products: [
            sold("p1", o1),
            sold("p2", o2),
            { ProductId: "p3", ProductStatus: "IN_STOCK" },
          ],
        }),
      ),
    );
    expect(anomalyCounts(a)).to.equal(
      "double-sold 0, resold 0, overwritten acknowledged 0, sold without order 0, lost acknowledged 0",
    );
    expect(a.lostAcknowledged.byRegion).to.deep.equal({ [EAST]: [], [WEST]: [] });
  });

  it("doubleSold: two acknowledged orders for one product, both stored", () => {
    const east = order("o-east", "p1", EAST, "c1");
    const west = order("o-west", "p1", WEST, "c2");
    // Last writer wins on the product: it names the west order; both orders stay.
    const a = findAnomalies(
      input(
        [ack(east, 10), ack(west, 12)],
        everywhere({ orders: [east, west], products: [sold("p1", west)] }),
      ),
    );
    expect(a.doubleSold).to.deep.equal({
      count: 1,
      products: [{ productId: "p1", orderIds: ["o-east", "o-west"] }],
    });
    expect(a.resold.count).to.equal(0);
    expect(a.soldWithoutOrder.count).to.equal(0);
    expect(a.lostAcknowledged.count).to.equal(0);
  });

  it("resold and lostAcknowledged: an acknowledged order lost with its region, the product sold again", () => {
    const lost = order("o-lost", "p1", EAST, "c1");
    const again = order("o-again", "p1", WEST, "c2");
    const kept = order("o-kept", "p2", EAST);
    // Only us-west-2 survived; it never received o-lost, and sold p1 again.
    const a = findAnomalies(
      input([ack(lost, 10), ack(kept, 11), ack(again, 500)], {
        [WEST]: { orders: [kept, again], products: [sold("p1", again), sold("p2", kept)] },
      }),
    );
    expect(a.lostAcknowledged).to.deep.equal({
      count: 1,
      orderIds: ["o-lost"],
      byRegion: { [WEST]: ["o-lost"] },
    });
    expect(a.resold).to.deep.equal({
      count: 1,
      products: [{ productId: "p1", lostOrderIds: ["o-lost"], resoldOrderIds: ["o-again"] }],
    });
    // The lost order is not a second standing order: not double-sold.
    expect(a.doubleSold.count).to.equal(0);
  });

  it("a lost order whose product was never sold again is lost, not resold", () => {
    const lost = order("o-lost", "p1");
    const a = findAnomalies(
      input([ack(lost, 10)], {
        [WEST]: { orders: [], products: [{ ProductId: "p1", ProductStatus: "IN_STOCK" }] },
      }),
    );
    expect(a.lostAcknowledged.orderIds).to.deep.equal(["o-lost"]);
    expect(a.resold.count).to.equal(0);
  });

  it("overwrittenAcknowledged: the same order id acknowledged by two regions, one version stored", () => {
    const east = order("o-1", "p1", EAST);
    const west = { ...order("o-1", "p1", WEST), CreatedAt: "2026-01-01T00:00:09.000Z" };
    const a = findAnomalies(
      input(
        [ack(east, 10), ack(west, 11)],
        everywhere({ orders: [west], products: [sold("p1", west)] }),
      ),
    );
    expect(a.overwrittenAcknowledged).to.deep.equal({
      count: 1,
      orders: [{ orderId: "o-1", region: EAST, acknowledged: east, stored: west }],
    });
    // One order id: not a double sale, nothing lost.
    expect(a.doubleSold.count).to.equal(0);
    expect(a.lostAcknowledged.count).to.equal(0);
  });

  it("overwrittenAcknowledged: the same order id reused for another product replaces the order", () => {
    const mine = order("o-1", "p1", EAST, "c1");
    const other = order("o-1", "p2", WEST, "c2");
    const a = findAnomalies(
      input(
        [ack(mine, 10)],
        everywhere({ orders: [other], products: [sold("p1", mine), sold("p2", other)] }),
      ),
    );
    expect(a.overwrittenAcknowledged.orders.map((o) => o.orderId)).to.deep.equal(["o-1"]);
    // ...and p1 stays SOLD to an order that is now for p2.
    expect(a.soldWithoutOrder).to.deep.equal({
      count: 1,
      products: [EAST, WEST].map((region) => ({
        productId: "p1",
        region,
        soldToOrderId: "o-1",
        reason: "its order o-1 is for product p2",
      })),
    });
  });

  it("soldWithoutOrder: the sale replicated but its order did not", () => {
    const o = order("o-1", "p1");
    const a = findAnomalies(
      input([ack(o, 10)], { [WEST]: { orders: [], products: [sold("p1", o)] } }),
    );
    expect(a.soldWithoutOrder).to.deep.equal({
      count: 1,
      products: [
        { productId: "p1", region: WEST, soldToOrderId: "o-1", reason: "its order o-1 is missing" },
      ],
    });
    expect(a.lostAcknowledged.orderIds).to.deep.equal(["o-1"]);
  });

  it("soldWithoutOrder: a SOLD product with no recorded order and no order for it", () => {
    const a = findAnomalies(
      input([], everywhere({ orders: [], products: [{ ProductId: "p2", ProductStatus: "SOLD" }] })),
    );
    expect(a.soldWithoutOrder.count).to.equal(1);
    expect(
      a.soldWithoutOrder.products.map((p) => [p.productId, p.soldToOrderId, p.reason]),
    ).to.deep.equal([
      ["p2", null, "no order is for this product"],
      ["p2", null, "no order is for this product"],
    ]);
  });

  it("looks only at the drill's own products", () => {
    const a = findAnomalies(
      input(
        [],
        everywhere({ orders: [], products: [{ ProductId: "sample", ProductStatus: "SOLD" }] }),
        ["p1"],
      ),
    );
    expect(a.soldWithoutOrder.count).to.equal(0);
  });

  it("contention picks floor(share * n) of n products, spread over the list", () => {
    for (const [share, n] of [
      [0, 10],
      [0.5, 10],
      [0.3, 10],
      [1, 7],
      [0.25, 100],
    ] as const) {
      const picked = Array.from({ length: n }, (_, i) => i).filter((i) => isContended(i, share));
      expect(picked.length, `${share} of ${n}`).to.equal(Math.floor(share * n));
    }
    expect(
      Array.from({ length: 6 }, (_, i) => isContended(i, 0.5)),
      "every other product",
    ).to.deep.equal([false, true, false, true, false, true]);
  });

  it("resale after a loss offers each product the lost region sold since the window opened, once", () => {
    const a = (id: string, p: string, at: number, servedBy: string): AckedOrder => ({
      ...ack(order(id, p), at),
      servedBy,
    });
    const ledger = [
      a("early", "p1", 100, EAST),
      a("in-1", "p2", 900, EAST),
      a("in-2", "p2", 950, EAST),
      a("other", "p3", 950, WEST),
      a("in-3", "p4", 1000, EAST),
    ];
    expect(soldBefore(ledger, EAST, 500).map((x) => x.orderId)).to.deep.equal(["in-1", "in-3"]);
  });

  it("without table scans, reads each acknowledged order back per region, with its product", async () => {
    const o1 = order("o1", "p1");
    const held: Record<string, OrderRecord[]> = { [EAST]: [o1], [WEST]: [] };
    const calls: string[] = [];
    const target = {
      endpoints: {
        regions: [EAST, WEST],
        viaRegion: (region: string, c: ApiCall): Promise<ApiResult> => {
          calls.push(`${region} ${c.method} ${c.path}`);
          const found = held[region]?.find((o) => c.path === `/orders/${o.OrderId}`);
          const body = found ? { order: found, product: sold(found.ProductId, found) } : undefined;
          return Promise.resolve({ status: found ? 200 : 404, body, startedAt: 0, ms: 1 });
        },
      },
      replication: {},
    } as unknown as DrillTarget;
    const ledger = [ack(o1, 1), ack(o1, 2)];
    const { tables, checkedAgainst } = await readRegions(target, [EAST, WEST], ledger);
    expect(checkedAgainst).to.equal("acknowledged orders");
    expect(calls).to.deep.equal([`${EAST} GET /orders/o1`, `${WEST} GET /orders/o1`]);
    expect(tables).to.deep.equal({
      [EAST]: { orders: [o1], products: [sold("p1", o1)] },
      [WEST]: { orders: [], products: [] },
    });
    expect(findAnomalies(input(ledger, tables)).lostAcknowledged.byRegion).to.deep.equal({
      [EAST]: [],
      [WEST]: ["o1"],
    });
  });
});

describe("drill compensation (pure)", () => {
  const T0 = Date.parse("2026-01-01T00:00:00.000Z");
  const o1 = order("o1", "p1", EAST, "c1");
  const o2 = order("o2", "p1", WEST, "c2");
  const ledger = [ack(o1, 100), { ...ack(o2, 300), servedBy: WEST }];
  const cancel = (o: OrderRecord, winner: string, atMs: number): OrderRecord => ({
    ...o,
    OrderStatus: "CANCELLED",
    CancelReason: "another region sold the same product",
    CancelledInFavourOf: winner,
    CancelledByRegion: String(o.CreatedInRegion),
    CancelledAt: new Date(T0 + atMs).toISOString(),
  });
  const run = (tables: Record<string, RegionTables>, lost: string[] = []) =>
    findCompensation({ ledger, tables, lost: new Set(lost), t0: T0 });

  it("without a reconciler the double sale stays outstanding, in every region, and is counted", () => {
    const c = run(everywhere({ orders: [o1, o2], products: [sold("p1", o2)] }));
    expect(c).to.deep.include({
      doubleSales: 1,
      compensated: 0,
      outstanding: 1,
      cancelledOrders: 0,
      winnersCancelled: 0,
    });
    expect(c.msToCancel.count).to.equal(0);
    expect(c.outstandingProducts).to.deep.equal([
      { productId: "p1", region: EAST, winner: "o2", reason: "not cancelled: o1" },
      { productId: "p1", region: WEST, winner: "o2", reason: "not cancelled: o1" },
    ]);
  });

  it("the loser cancelled everywhere: compensated, 0 outstanding, time from the second acknowledgement", () => {
    const c = run(everywhere({ orders: [cancel(o1, "o2", 900), o2], products: [sold("p1", o2)] }));
    expect(c).to.deep.include({
      doubleSales: 1,
      compensated: 1,
      outstanding: 0,
      cancelledOrders: 1,
      winnersCancelled: 0,
    });
    // Second acknowledgement at 300 ms, cancellation at 900 ms.
    expect(c.msToCancel).to.deep.include({ count: 1, p50: 600, p99: 600 });
    expect(c.outstandingProducts).to.deep.equal([]);
    expect(compensationLine(c)).to.equal(
      "double sales 1, compensated 1, outstanding 0 (1 orders cancelled, 0 winners cancelled); " +
        "second acknowledgement to cancellation p50 600 ms, p99 600 ms",
    );
  });

  it("a cancellation that has not reached one region yet leaves the product outstanding", () => {
    const c = run({
      [EAST]: { orders: [cancel(o1, "o2", 900), o2], products: [sold("p1", o2)] },
      [WEST]: { orders: [o1, o2], products: [sold("p1", o2)] },
    });
    expect(c).to.deep.include({ compensated: 0, outstanding: 1, cancelledOrders: 1 });
    expect(c.outstandingProducts.map((p) => p.region)).to.deep.equal([WEST]);
  });

  it("a cancelled winner is outstanding and counted as such", () => {
    const c = run(everywhere({ orders: [o1, cancel(o2, "o1", 900)], products: [sold("p1", o2)] }));
    expect(c).to.deep.include({ outstanding: 1, winnersCancelled: 1 });
    expect(c.outstandingProducts[0]?.reason).to.equal(
      "the order the product names, o2, is cancelled",
    );
  });

  it("both orders cancelled (two regions deciding differently) is outstanding", () => {
    const c = run(
      everywhere({
        orders: [cancel(o1, "o2", 900), cancel(o2, "o1", 950)],
        products: [sold("p1", o2)],
      }),
    );
    expect(c).to.deep.include({ compensated: 0, outstanding: 1, winnersCancelled: 1 });
  });

  it("an order lost with its region is not part of a double sale", () => {
    const c = run(everywhere({ orders: [o2], products: [sold("p1", o2)] }), ["o1"]);
    expect(c).to.deep.include({ doubleSales: 0, compensated: 0, outstanding: 0 });
  });

  it("a cancellation by compensation is not an overwritten acknowledged order; another change is", () => {
    const tables = everywhere({ orders: [cancel(o1, "o2", 900), o2], products: [sold("p1", o2)] });
    expect(findAnomalies(input(ledger, tables)).overwrittenAcknowledged.count).to.equal(0);
    const changed = { ...cancel(o1, "o2", 900), CustomerId: "someone-else" };
    const other = everywhere({ orders: [changed, o2], products: [sold("p1", o2)] });
    expect(findAnomalies(input(ledger, other)).overwrittenAcknowledged.count).to.equal(1);
  });

  /** A target whose tables are `states[i]` on the i-th read (the last one from then on). */
  function changingTarget(states: Record<string, RegionTables>[]): DrillTarget & { reads: number } {
    const t = {
      reads: 0,
      replication: {
        waitConverged: () => Promise.resolve({ converged: true, waitedMs: 0 }),
        scanTables: (region: string) => {
          const state = states[Math.min(Math.floor(t.reads++ / 2), states.length - 1)];
          return Promise.resolve(state?.[region] as RegionTables);
        },
      },
    };
    return t as unknown as DrillTarget & { reads: number };
  }

  it("verify looks again until compensation settles", async () => {
    const before = everywhere({ orders: [o1, o2], products: [sold("p1", o2)] });
    const after = everywhere({ orders: [cancel(o1, "o2", 900), o2], products: [sold("p1", o2)] });
    const target = changingTarget([before, before, after]);
    const out = await settleData(target, [EAST, WEST], ledger, new Set(["p1"]), T0, 30_000);
    expect(out.compensation).to.deep.include({ doubleSales: 1, compensated: 1, outstanding: 0 });
    expect(target.reads).to.equal(6);
  });

  it("verify gives up after its bound and reports what is still outstanding", async () => {
    const stuck = everywhere({ orders: [o1, o2], products: [sold("p1", o2)] });
    const out = await settleData(
      changingTarget([stuck]),
      [EAST, WEST],
      ledger,
      new Set(["p1"]),
      T0,
      600,
    );
    expect(out.compensation).to.deep.include({ doubleSales: 1, outstanding: 1 });
    expect(out.anomalies.doubleSold.count).to.equal(1);
  });
});

describe("drill repair step (pure)", () => {
  const o1 = order("o1", "p1");
  const claim = (productId: string, o: OrderRecord): ProductRecord => ({
    ...sold(productId, o),
    SoldToCustomerId: o.CustomerId,
    SoldOrderTotal: o.OrderTotal,
  });

  /** One region's tables, mutable, behind the real repair logic (`repairSalesWith`). */
  function regionStore(t: { orders: OrderRecord[]; products: ProductRecord[] }): OrderStore {
    return {
      getOrder: (id) =>
        Promise.resolve(t.orders.find((o) => o.OrderId === id) as OrderItem | undefined),
      getProduct: (id) =>
        Promise.resolve(t.products.find((p) => p.ProductId === id) as ProductItem | undefined),
      putOrder: (o) => {
        const existing = t.orders.find((x) => x.OrderId === o.OrderId) as OrderItem | undefined;
        if (existing) return Promise.resolve({ written: false, existing });
        t.orders.push(o as unknown as OrderRecord);
        return Promise.resolve({ written: true });
      },
      releaseClaim: (productId, orderId) => {
        const i = t.products.findIndex(
          (p) => p.ProductId === productId && p.SoldToOrderId === orderId,
        );
        if (i < 0) return Promise.resolve(false);
        t.products[i] = { ProductId: productId, ProductStatus: "IN_STOCK" };
        return Promise.resolve(true);
      },
    };
  }

  function target(withRepair: boolean): DrillTarget & { converges: number } {
    // One table set for both regions: a converged pair, and what one region writes the other has.
    const t = { orders: [] as OrderRecord[], products: [claim("p1", o1)] };
    const out = {
      converges: 0,
      replication: {
        waitConverged: () => {
          out.converges++;
          return Promise.resolve({ converged: true, waitedMs: 0 });
        },
        scanTables: () => Promise.resolve({ orders: [...t.orders], products: [...t.products] }),
      },
      ...(withRepair
        ? {
            repair: async () =>
              repairCounts(
                await repairSalesWith(
                  regionStore(t),
                  t.products.map((p) => p.ProductId),
                ),
              ),
          }
        : {}),
    };
    return out as unknown as DrillTarget & { converges: number };
  }

  it("counts a claim without its order before repair, writes the order once, and counts 0 after", async () => {
    const t = target(true);
    const r = await repairData(t, [EAST, WEST], [], new Set(["p1"]), 1_000);
    expect(r).to.deep.include({
      ran: true,
      soldWithoutOrderBefore: 1,
      ordersWritten: 1,
      claimsReleased: 0,
      leftAsFound: 0,
    });
    expect(r.byRegion[EAST]).to.include({ ordersWritten: 1 });
    expect(r.byRegion[WEST]).to.include({ ordersWritten: 0 });
    expect(t.converges).to.equal(1);
    expect(repairLine(r)).to.equal(
      "sold without order before repair 1; repair wrote 1 orders, released 0 claims",
    );
    const after = await checkData(t, [EAST, WEST], [], new Set(["p1"]), 0);
    expect(after.anomalies.soldWithoutOrder.count).to.equal(0);
  });

  it("a target without repair leaves the anomaly counted, and says so", async () => {
    const t = target(false);
    const r = await repairData(t, [EAST, WEST], [], new Set(["p1"]), 1_000);
    expect(r).to.deep.include({ ran: false, soldWithoutOrderBefore: 1, ordersWritten: 0 });
    expect(repairLine(r)).to.equal(
      "sold without order before repair 1; this target cannot run the repair step",
    );
    const after = await checkData(t, [EAST, WEST], [], new Set(["p1"]), 0);
    expect(after.anomalies.soldWithoutOrder.count).to.equal(1);
  });
});
