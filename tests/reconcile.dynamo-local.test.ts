/**
 * The reconciler's Lambda handler against a real engine (DynamoDB Local): the conditional
 * cancellation, the tombstone for an order not written yet, redelivery, partial batch failures
 * and records it must skip without failing.
 */
import { expect } from "chai";
import { marshall } from "@aws-sdk/util-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { DynamoOrderStore } from "../functions/data/orders";
import { CANCEL_REASON } from "../functions/domain/compensation";
import { orderFromSale, type ProductItem } from "../functions/domain/model";
import { makeReconcileHandler, reconcilerTables } from "../functions/handlers/reconcile";
import { RECONCILER } from "../functions/stream-functions";
import type { TableKey } from "../functions/tables";
import { SandboxReconciler } from "../local/reconciler";
import { createTables, useDynamoLocal } from "./support/dynamo-local";
import { eventually } from "./support/eventually";
import { testDeps } from "./support/deps";

const EAST = "us-east-1";
const WEST = "us-west-2";
const NOW = new Date("2026-11-29T12:00:00.000Z");

let seq = 100;
function record(
  oldImage: Record<string, unknown> | undefined,
  newImage: Record<string, unknown> | undefined,
  eventName: DynamoDBRecord["eventName"] = "MODIFY",
): DynamoDBRecord {
  return {
    eventID: `e${seq}`,
    eventName,
    awsRegion: EAST,
    dynamodb: {
      SequenceNumber: String(++seq),
      ...(oldImage ? { OldImage: marshall(oldImage) as never } : {}),
      ...(newImage ? { NewImage: marshall(newImage) as never } : {}),
    },
  };
}

const sale = (product: string, order: string, region: string, extra = {}) => ({
  ProductId: product,
  ProductStatus: "SOLD",
  SoldToOrderId: order,
  SoldInRegion: region,
  SoldAt: "2026-11-29T11:59:59.000Z",
  ...extra,
});
const order = (id: string, product: string) => ({
  OrderId: id,
  ProductId: product,
  CustomerId: "c1",
  OrderStatus: "CONFIRMED",
  OrderTotal: 100,
  CreatedAt: "2026-11-29T11:59:59.000Z",
  CreatedInRegion: EAST,
});

describe("reconciler handler against DynamoDB Local", function () {
  this.timeout(30_000);
  const local = useDynamoLocal();
  let tables: Record<TableKey, string>;
  let prefix = 0;

  beforeEach(async () => {
    tables = await createTables(local.instance().client, `reconcile-${++prefix}`);
  });

  const deps = () => testDeps({ endpoint: local.instance().endpoint, tables, region: EAST });
  const put = (table: TableKey, item: Record<string, unknown>) =>
    deps().doc.send(new PutCommand({ TableName: tables[table], Item: item }));
  const getOrder = async (id: string) =>
    (
      await deps().doc.send(
        new GetCommand({ TableName: tables.orders, Key: { OrderId: id }, ConsistentRead: true }),
      )
    ).Item;
  const handlerFor = (d = deps()) => makeReconcileHandler(d, { region: EAST, now: () => NOW });

  it("uses exactly the tables and actions RECONCILER grants", () => {
    expect(RECONCILER.access).to.deep.equal({
      products: ["dynamodb:GetItem"],
      orders: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
    });
    expect(() => reconcilerTables({ tables: { products: "p" } })).to.throw(
      "the reconciler needs the orders table: set TABLE_ORDERS",
    );
  });

  it("cancels the losing order once, keeping its content; a redelivered record changes nothing", async () => {
    await put("orders", order("a", "p1"));
    await put("products", sale("p1", "b", WEST));
    const handler = handlerFor();
    const event = { Records: [record(sale("p1", "a", EAST), sale("p1", "b", WEST))] };
    expect(await handler(event)).to.deep.equal({ batchItemFailures: [] });
    const cancelled = await getOrder("a");
    expect(cancelled).to.deep.equal({
      ...order("a", "p1"),
      OrderStatus: "CANCELLED",
      CancelReason: CANCEL_REASON,
      CancelledInFavourOf: "b",
      CancelledByRegion: EAST,
      CancelledAt: NOW.toISOString(),
    });
    // Delivered again a minute later: the cancellation is not written again.
    const later = makeReconcileHandler(deps(), {
      region: EAST,
      now: () => new Date(NOW.getTime() + 60_000),
    });
    expect(await later(event)).to.deep.equal({ batchItemFailures: [] });
    expect(await getOrder("a")).to.deep.equal(cancelled);
  });

  it("never cancels when the product names the order again, nor from another region's record", async () => {
    await put("orders", order("a", "p1"));
    await put("products", sale("p1", "a", EAST));
    const handler = handlerFor();
    await handler({ Records: [record(sale("p1", "a", EAST), sale("p1", "b", WEST))] });
    expect((await getOrder("a"))?.OrderStatus).to.equal("CONFIRMED");
    // us-west-2's record of the same conflict, seen by us-east-1: its old sale is not ours.
    await put("orders", order("b", "p1"));
    await handler({ Records: [record(sale("p1", "b", WEST), sale("p1", "a", EAST))] });
    expect((await getOrder("b"))?.OrderStatus).to.equal("CONFIRMED");
  });

  it("an order not written yet becomes a cancelled tombstone; the sale's late order put answers with it", async () => {
    await put("products", sale("p1", "b", WEST));
    // The claim of the order path (functions/data/orders.ts): the product records the whole order.
    const claim = sale("p1", "a", EAST, { SoldToCustomerId: "c9", SoldOrderTotal: 100 });
    await handlerFor()({ Records: [record(claim, sale("p1", "b", WEST))] });
    const tombstone = {
      OrderId: "a",
      ProductId: "p1",
      CustomerId: "c9",
      OrderTotal: 100,
      CreatedInRegion: EAST,
      CreatedAt: "2026-11-29T11:59:59.000Z",
      OrderStatus: "CANCELLED",
      CancelReason: CANCEL_REASON,
      CancelledInFavourOf: "b",
      CancelledByRegion: EAST,
      CancelledAt: NOW.toISOString(),
    };
    expect(await getOrder("a")).to.deep.equal(tombstone);
    // The sale's own order put, late: it creates only orders that do not exist, and finds this
    // one, the same order (customer, product, time, region, total), cancelled.
    const store = new DynamoOrderStore(deps().doc, tables);
    const late = orderFromSale(claim as unknown as ProductItem);
    if (late === undefined) throw new Error("the claim describes an order");
    expect(await store.putOrder(late)).to.deep.equal({ written: false, existing: tombstone });
    expect(await getOrder("a")).to.deep.equal(tombstone);
  });

  it("does not touch an order of another product with the same id", async () => {
    await put("orders", order("a", "p-other"));
    await put("products", sale("p1", "b", WEST));
    await handlerFor()({ Records: [record(sale("p1", "a", EAST), sale("p1", "b", WEST))] });
    expect(await getOrder("a")).to.deep.equal(order("a", "p-other"));
  });

  it("reports the first record that failed, after handling the ones before it", async () => {
    for (const id of ["a1", "a2", "a3"]) await put("orders", order(id, `p-${id}`));
    for (const id of ["a1", "a2", "a3"]) await put("products", sale(`p-${id}`, "w", WEST));
    const d = deps();
    // A fault on the real engine's path: every call that touches order a2 fails.
    d.doc.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: { OrderId?: unknown } }).Key?.OrderId;
        const id = typeof key === "object" && key !== null ? (key as { S?: unknown }).S : key;
        if (String(context.commandName).startsWith("Update") && id === "a2") {
          throw Object.assign(new Error("injected"), { name: "InternalServerError" });
        }
        return next(args);
      },
      { step: "initialize", name: "inject-failure" },
    );
    const records = ["a1", "a2", "a3"].map((id) =>
      record(sale(`p-${id}`, id, EAST), sale(`p-${id}`, "w", WEST)),
    );
    const out = await handlerFor(d)({ Records: records });
    expect(out).to.deep.equal({
      batchItemFailures: [{ itemIdentifier: records[1]?.dynamodb?.SequenceNumber }],
    });
    expect((await getOrder("a1"))?.OrderStatus).to.equal("CANCELLED");
    expect((await getOrder("a2"))?.OrderStatus).to.equal("CONFIRMED");
    // Lambda delivers a2 and everything after it again (a3 was not handled yet).
    expect((await getOrder("a3"))?.OrderStatus).to.equal("CONFIRMED");
    expect(d.metrics.published.map((m) => [m.name, m.value])).to.deep.equal([
      ["OrdersCancelled", 1],
    ]);
    const retry = await handlerFor()({ Records: records.slice(1) });
    expect(retry).to.deep.equal({ batchItemFailures: [] });
    expect((await getOrder("a2"))?.OrderStatus).to.equal("CANCELLED");
    expect((await getOrder("a3"))?.OrderStatus).to.equal("CANCELLED");
  });

  it("skips odd records and odd events without failing or throwing", async () => {
    const handler = handlerFor();
    // A readable conflict without a sequence number: no identifier to report, so skipped.
    const noSequence = record(sale("p1", "a", EAST), sale("p1", "b", WEST));
    delete noSequence.dynamodb?.SequenceNumber;
    await put("orders", order("a", "p1"));
    await put("products", sale("p1", "b", WEST));
    const odd: unknown[] = [
      null,
      5,
      "x",
      {},
      { dynamodb: 3 },
      { eventName: "MODIFY", dynamodb: { SequenceNumber: "1", OldImage: "no" } },
      { eventName: "MODIFY", dynamodb: { SequenceNumber: "2", OldImage: { ProductId: { Q: 1 } } } },
      noSequence,
    ];
    expect(await handler({ Records: odd } as unknown as DynamoDBStreamEvent)).to.deep.equal({
      batchItemFailures: [],
    });
    expect((await getOrder("a"))?.OrderStatus).to.equal("CONFIRMED");
    for (const event of [undefined, null, {}, { Records: "x" }]) {
      expect(await handler(event as unknown as DynamoDBStreamEvent)).to.deep.equal({
        batchItemFailures: [],
      });
    }
  });

  describe("in the sandbox (local/reconciler.ts)", () => {
    let reconciler: SandboxReconciler;
    beforeEach(async () => {
      reconciler = new SandboxReconciler({ settleMs: 0, pollMs: 20 });
      await reconciler.attach(EAST, local.instance().endpoint, deps());
    });
    afterEach(() => reconciler.stop());

    const status = async (id: string) => (await getOrder(id))?.OrderStatus;

    it("reads the products stream: a product moving away from its order cancels it; paused, it waits", async () => {
      await put("orders", order("e", "p2"));
      await put("products", sale("p2", "e", EAST));
      await put("products", sale("p2", "f", WEST));
      await eventually("e cancelled", 10_000, async () =>
        (await status("e")) === "CANCELLED" ? true : undefined,
      );
      reconciler.pause();
      await put("orders", order("g", "p3"));
      await put("products", sale("p3", "g", EAST));
      await put("products", sale("p3", "h", WEST));
      // Held like a disabled event source mapping: read, not handled.
      await eventually("records held", 10_000, () =>
        (reconciler.stats()[0]?.backlog ?? 0) >= 2 ? true : undefined,
      );
      expect(await status("g")).to.equal("CONFIRMED");
      reconciler.resume();
      await eventually("g cancelled", 10_000, async () =>
        (await status("g")) === "CANCELLED" ? true : undefined,
      );
    });

    it("sweep: cancels the orders this region sold whose product names another order, only those", async () => {
      await put("orders", order("a", "p1"));
      await put("products", sale("p1", "b", WEST));
      await put("orders", order("c", "p4"));
      await put("products", sale("p4", "c", EAST));
      await put("orders", { ...order("d", "p5"), CreatedInRegion: WEST });
      await put("products", sale("p5", "x", EAST));
      expect(await reconciler.sweep(EAST)).to.equal(1);
      expect(await getOrder("a")).to.include({
        OrderStatus: "CANCELLED",
        CancelledInFavourOf: "b",
      });
      expect(await status("c")).to.equal("CONFIRMED");
      expect(await status("d")).to.equal("CONFIRMED");
      expect(await reconciler.sweep(EAST)).to.equal(0);
      expect(reconciler.stats()[0]).to.include({ region: EAST, swept: 1 });
    });
  });
});
