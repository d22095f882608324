/**
 * The order path without transactions against a real DynamoDB engine: a sale that dies between
 * its claim and its order, retries in another region, one order id raced for two products, and
 * one product raced by many orders. "Another region" is a second handler set with another region
 * name over the same tables: one DynamoDB Local plays a strongly consistent (MRSC) table, where
 * every region sees every write at once.
 */
import { expect } from "chai";
import { PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createApp } from "../functions/app";
import { repairCounts, repairSales } from "../functions/data/repair";
import { SALE_ATTRIBUTES } from "../functions/domain/model";
import type { ApiHandler } from "../functions/runtime";
import type { TableKey } from "../functions/tables";
import { createTables, useDynamoLocal } from "./support/dynamo-local";
import { testDeps } from "./support/deps";
import { apiEvent, parse, type Parsed, type RequestSpec } from "./support/events";
import { putItems, scanAll, type Item } from "./support/tables";

const EAST = "us-east-1";
const WEST = "us-west-2";

/** Runs `before` ahead of every command `doc` sends (to fail it or hold it back). */
function intercepted(
  doc: DynamoDBDocumentClient,
  before: (command: unknown) => Promise<void> | void,
): DynamoDBDocumentClient {
  return new Proxy(doc, {
    get(target, prop) {
      if (prop !== "send") return Reflect.get(target, prop, target) as unknown;
      return async (command: Parameters<DynamoDBDocumentClient["send"]>[0]) => {
        await before(command);
        return target.send(command);
      };
    },
  });
}

describe("orders without transactions, against DynamoDB Local", function () {
  const local = useDynamoLocal();
  let tables: Record<TableKey, string>;
  let prefix = 0;

  beforeEach(async () => {
    tables = await createTables(local.instance().client, `orders-${++prefix}`);
    await putItems(local.instance().client, tables.customers, [
      { CustomerId: "c1" },
      { CustomerId: "c2" },
    ]);
    await putItems(
      local.instance().client,
      tables.products,
      ["p1", "p2", "p3"].map((ProductId) => ({ ProductId, ProductStatus: "IN_STOCK" })),
    );
  });

  /** The handlers of one region; `before` sees every DynamoDB command they send. */
  function region(name: string, before?: (command: unknown) => Promise<void> | void): ApiHandler {
    const deps = testDeps({ endpoint: local.instance().endpoint, tables, region: name });
    return createApp(before ? { ...deps, doc: intercepted(deps.doc, before) } : deps);
  }

  /** Fails the first order put with a non-AWS error: the function died after its claim. */
  function crashAfterClaim(): (command: unknown) => void {
    let crashed = false;
    return (command) => {
      if (crashed || !(command instanceof PutCommand)) return;
      if (command.input.TableName !== tables.orders) return;
      crashed = true;
      throw new Error("injected: the function died between the claim and the order");
    };
  }

  async function call<T = Item>(app: ApiHandler, spec: RequestSpec): Promise<Parsed<T>> {
    return parse<T>(await app(apiEvent(spec)));
  }
  const post = (orderId: string, productId: string, customerId = "c1"): RequestSpec => ({
    method: "POST",
    path: "/orders",
    query: { orderId, productId, customerId },
  });
  const scan = (key: TableKey) => scanAll(local.instance().client, tables[key]);
  const product = async (id: string) => (await scan("products")).find((p) => p.ProductId === id);

  /** What no run may leave: a SOLD product whose order is missing or for another product. */
  async function expectEverySaleHasItsOrder(): Promise<void> {
    const orders = new Map((await scan("orders")).map((o) => [o.OrderId, o]));
    for (const p of await scan("products")) {
      if (p.ProductStatus !== "SOLD") {
        for (const a of SALE_ATTRIBUTES) expect(p, `${p.ProductId as string}`).not.to.have.key(a);
        continue;
      }
      const order = orders.get(p.SoldToOrderId as string);
      expect(order?.ProductId, `order of ${p.ProductId as string}`).to.equal(p.ProductId);
      expect(order?.CustomerId).to.equal(p.SoldToCustomerId);
    }
  }

  it("a crash between claim and order: the query-form read writes the order from the claim", async () => {
    const crashed = await call(region(EAST, crashAfterClaim()), post("crash-1", "p1"));
    expect(crashed.status).to.equal(500);
    expect(await scan("orders")).to.deep.equal([]);
    const claim = await product("p1");
    expect(claim).to.include({ ProductStatus: "SOLD", SoldToOrderId: "crash-1" });

    const west = region(WEST);
    // The path form knows only the order id: it cannot find a claim whose order was never written.
    expect((await call(west, { method: "GET", path: "/orders/crash-1" })).status).to.equal(404);
    const read = await call<{ order: Item; sale: Item }>(west, {
      method: "GET",
      path: "/orders",
      query: { orderId: "crash-1", productId: "p1" },
    });
    expect(read.status).to.equal(200);
    const order = {
      OrderId: "crash-1",
      ProductId: "p1",
      CustomerId: "c1",
      OrderStatus: "CONFIRMED",
      OrderTotal: 100,
      CreatedAt: claim?.SoldAt,
      CreatedInRegion: EAST,
    };
    expect(read.body.order).to.deep.equal(order);
    expect(read.body.sale).to.include({ orderId: "crash-1", region: EAST, thisOrder: true });
    expect(await scan("orders")).to.deep.equal([order]);
    expect((await call(west, { method: "GET", path: "/orders/crash-1" })).status).to.equal(200);
    await expectEverySaleHasItsOrder();
  });

  it("a crash between claim and order: repair writes the order, and a second run changes nothing", async () => {
    expect((await call(region(EAST, crashAfterClaim()), post("crash-2", "p2"))).status).to.equal(
      500,
    );
    const doc = testDeps({ endpoint: local.instance().endpoint, tables }).doc;
    const first = await repairSales(doc, tables);
    expect(first["order-written"]).to.deep.equal(["p2"]);
    const orders = await scan("orders");
    expect(orders.map((o) => [o.OrderId, o.ProductId, o.CreatedInRegion])).to.deep.equal([
      ["crash-2", "p2", EAST],
    ]);
    await expectEverySaleHasItsOrder();
    const second = await repairSales(doc, tables);
    expect(second["order-exists"]).to.deep.equal(["p2"]);
    expect(second["order-written"]).to.deep.equal([]);
    expect(await scan("orders")).to.deep.equal(orders);
  });

  it("a dry run reports the order it would write and the claim it would release, writing nothing", async () => {
    expect((await call(region(EAST, crashAfterClaim()), post("dry-1", "p2"))).status).to.equal(500);
    const won = await call(region(EAST), post("dry-2", "p1"));
    const stray = { ...(await product("p1")), ProductId: "p3" };
    await putItems(local.instance().client, tables.products, [stray]);
    const productsBefore = await scan("products");
    const doc = testDeps({ endpoint: local.instance().endpoint, tables }).doc;
    const dry = repairCounts(await repairSales(doc, tables, undefined, { dryRun: true }));
    expect(dry).to.deep.include({ checked: 3, ordersWritten: 1, claimsReleased: 1 });
    expect(await scan("products")).to.deep.equal(productsBefore);
    expect(await scan("orders")).to.deep.equal([won.body]);
    const real = await repairSales(doc, tables);
    expect(real["order-written"]).to.deep.equal(["p2"]);
    expect(real["claim-released"]).to.deep.equal(["p3"]);
    await expectEverySaleHasItsOrder();
  });

  it("a retry in another region completes a crashed sale with the original time and region", async () => {
    expect((await call(region(EAST, crashAfterClaim()), post("crash-3", "p1"))).status).to.equal(
      500,
    );
    const soldAt = (await product("p1"))?.SoldAt;
    const retry = await call(region(WEST), post("crash-3", "p1"));
    expect(retry.status).to.equal(200);
    expect(retry.body).to.include({ OrderId: "crash-3", CreatedInRegion: EAST, CreatedAt: soldAt });
    expect(await scan("orders")).to.deep.equal([retry.body]);
    await expectEverySaleHasItsOrder();
  });

  it("the same id and content is 201 once, then 200 with that order in every region", async () => {
    const first = await call(region(EAST), post("same-1", "p1"));
    expect(first.status).to.equal(201);
    for (const name of [WEST, EAST]) {
      const again = await call(region(name), post("same-1", "p1"));
      expect([again.status, again.body], name).to.deep.equal([200, first.body]);
    }
    expect(await scan("orders")).to.deep.equal([first.body]);
  });

  it("the same id with other content is 409 OrderConflict in every region and sells nothing", async () => {
    await call(region(EAST), post("taken-1", "p1"));
    const before = await scan("products");
    for (const [name, spec] of [
      [WEST, post("taken-1", "p2")],
      [EAST, post("taken-1", "p1", "c2")],
    ] as const) {
      const res = await call(region(name), spec);
      expect([res.status, res.body.error], name).to.deep.equal([409, "OrderConflict"]);
    }
    expect(await scan("products")).to.deep.equal(before);
  });

  it("one id for two products in two regions at once: one order, the loser 409 and its claim released", async () => {
    // East claims p1, then waits before its order put until west has finished with p2.
    let releaseEast!: () => void;
    const westDone = new Promise<void>((resolve) => (releaseEast = resolve));
    const east = region(EAST, async (command) => {
      if (command instanceof PutCommand && command.input.TableName === tables.orders) {
        await westDone;
      }
    });
    const eastAnswer = call(east, post("race-1", "p1"));
    // West runs once east's claim is visible.
    for (let i = 0; (await product("p1"))?.ProductStatus !== "SOLD"; i++) {
      expect(i, "east never claimed p1").to.be.below(200);
      await new Promise((r) => setImmediate(r));
    }
    const west = await call(region(WEST), post("race-1", "p2"));
    releaseEast();
    const lost = await eastAnswer;
    expect(west.status).to.equal(201);
    expect([lost.status, lost.body.error]).to.deep.equal([409, "OrderConflict"]);
    expect(await product("p1")).to.deep.equal({ ProductId: "p1", ProductStatus: "IN_STOCK" });
    expect((await scan("orders")).map((o) => o.ProductId)).to.deep.equal(["p2"]);
    await expectEverySaleHasItsOrder();
  });

  it("one id for two products, truly concurrent, ten times: never two orders, never a stray claim", async () => {
    for (let round = 0; round < 10; round++) {
      const id = `both-${round}`;
      const [a, b] = await Promise.all([
        call(region(EAST), post(id, "p1")),
        call(region(WEST), post(id, "p2")),
      ]);
      const statuses = [a.status, b.status].sort();
      expect(statuses, `round ${round}`).to.deep.equal([201, 409]);
      await expectEverySaleHasItsOrder();
      // Put both products back for the next round.
      await putItems(
        local.instance().client,
        tables.products,
        ["p1", "p2"].map((ProductId) => ({ ProductId, ProductStatus: "IN_STOCK" })),
      );
    }
  });

  it("one product, many orders from two regions at once: exactly one sale", async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(region(i % 2 ? WEST : EAST), post(`many-${i}`, "p3", i % 2 ? "c2" : "c1")),
      ),
    );
    const won = answers.filter((a) => a.status === 201);
    expect(won).to.have.length(1);
    expect(answers.filter((a) => a.status === 409).map((a) => a.body.error)).to.deep.equal(
      Array.from({ length: 7 }, () => "ProductSoldOut"),
    );
    expect((await product("p3"))?.SoldToOrderId).to.equal(won[0]?.body.OrderId);
    expect(await scan("orders")).to.deep.equal([won[0]?.body]);
  });

  it("repair releases a claim whose order id was taken by an order for another product", async () => {
    const won = await call(region(EAST), post("stray-1", "p1"));
    // What a loser that died before its release leaves behind.
    const stray = { ...(await product("p1")), ProductId: "p2" };
    await putItems(local.instance().client, tables.products, [stray]);
    const report = await repairSales(
      testDeps({ endpoint: local.instance().endpoint, tables }).doc,
      tables,
    );
    expect(report["claim-released"]).to.deep.equal(["p2"]);
    expect(report["order-exists"]).to.deep.equal(["p1"]);
    expect(await product("p2")).to.deep.equal({ ProductId: "p2", ProductStatus: "IN_STOCK" });
    expect(await scan("orders")).to.deep.equal([won.body]);
    await expectEverySaleHasItsOrder();
  });
});
