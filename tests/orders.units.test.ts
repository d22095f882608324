/**
 * The order path without transactions, without a database: the domain's sale, read and repair
 * over an in-memory store whose every operation is one atomic single-item step (as a conditional
 * write or a strongly consistent read is on MRSC), interleaved by fast-check's scheduler, with
 * injected failures; and the DynamoDB store's exact commands and error handling, against a mocked
 * client and against the SDK's own retry of `ReplicatedWriteConflictException`.
 */
import {
  DynamoDBClient,
  ReplicatedWriteConflictException,
  ConditionalCheckFailedException,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import fc from "fast-check";
import { DynamoSaleStore } from "../functions/data/orders";
import { repairSalesWith } from "../functions/data/repair";
import { DomainError } from "../functions/domain/errors";
import {
  SALE_ATTRIBUTES,
  orderFromSale,
  saleOf,
  type Clock,
  type OrderItem,
  type ProductItem,
} from "../functions/domain/model";
import {
  placeOrder,
  readOrder,
  repairSale,
  type ClaimResult,
  type PlaceOrderInput,
  type PutOrderResult,
  type SaleStore,
} from "../functions/domain/orders";
import { toHttp } from "../functions/http";
import { SDK_LIMITS } from "../functions/runtime";
import { parse } from "./support/events";

/** A failure injected into one store operation: before it applies, or after (a lost answer). */
interface Fault {
  readonly at: number;
  readonly applied: boolean;
}

class InjectedFault extends Error {}

/**
 * Single-item operations on maps, each atomic. `step` runs before every operation: the property
 * test passes fast-check's scheduler there, so operations of concurrent requests interleave in
 * every order it picks. Operation number `fault.at` fails.
 */
class MemoryStore implements SaleStore {
  readonly customers = new Set<string>();
  readonly products = new Map<string, ProductItem>();
  readonly orders = new Map<string, OrderItem>();
  private ops = 0;

  constructor(
    private step: (label: string) => Promise<void> = () => Promise.resolve(),
    private faults: readonly Fault[] = [],
  ) {}

  /** From now on, operations run at once and never fail (the run is over; repair follows). */
  settle(): void {
    this.step = () => Promise.resolve();
    this.faults = [];
  }

  private async op<T>(label: string, apply: () => T): Promise<T> {
    await this.step(label);
    const fault = this.faults.find((f) => f.at === this.ops);
    this.ops++;
    if (fault && !fault.applied) throw new InjectedFault(`${label} failed before applying`);
    const out = apply();
    if (fault) throw new InjectedFault(`${label} applied, answer lost`);
    return out;
  }

  customerExists(id: string): Promise<boolean> {
    return this.op(`customer ${id}`, () => this.customers.has(id));
  }
  getOrder(id: string): Promise<OrderItem | undefined> {
    return this.op(`get order ${id}`, () => this.orders.get(id));
  }
  getProduct(id: string): Promise<ProductItem | undefined> {
    return this.op(`get product ${id}`, () => this.products.get(id));
  }
  claimProduct(order: OrderItem): Promise<ClaimResult> {
    return this.op(`claim ${order.ProductId} for ${order.OrderId}`, () => {
      const p = this.products.get(order.ProductId);
      if (p?.ProductStatus !== "IN_STOCK") return { claimed: false, product: p };
      this.products.set(p.ProductId, { ...p, ProductStatus: "SOLD", ...saleOf(order) });
      return { claimed: true };
    });
  }
  putOrder(order: OrderItem): Promise<PutOrderResult> {
    return this.op(`put order ${order.OrderId}`, () => {
      const existing = this.orders.get(order.OrderId);
      if (existing) return { written: false, existing };
      this.orders.set(order.OrderId, order);
      return { written: true };
    });
  }
  releaseClaim(productId: string, orderId: string): Promise<boolean> {
    return this.op(`release ${productId} from ${orderId}`, () => {
      const p = this.products.get(productId);
      if (p?.ProductStatus !== "SOLD" || p.SoldToOrderId !== orderId) return false;
      const kept = Object.fromEntries(
        Object.entries(p).filter(([k]) => !(SALE_ATTRIBUTES as string[]).includes(k)),
      );
      this.products.set(productId, { ...(kept as ProductItem), ProductStatus: "IN_STOCK" });
      return true;
    });
  }
}

function clockIn(region: string, at = "2026-11-29T12:00:00.000Z"): Clock {
  return { region, now: () => new Date(at), newId: () => "unused" };
}

function seeded(store: MemoryStore, products: string[], customers: string[]): MemoryStore {
  for (const c of customers) store.customers.add(c);
  for (const p of products) store.products.set(p, { ProductId: p, ProductStatus: "IN_STOCK" });
  return store;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof DomainError ? err.code : (err as Error).constructor.name;
  }
}

/**
 * The invariant every run must end in once repair ran: a SOLD product names an order that exists,
 * is for it and carries the claim's content; an IN_STOCK product records no sale.
 */
function expectRepaired(store: MemoryStore): void {
  for (const p of store.products.values()) {
    if (p.ProductStatus === "IN_STOCK") {
      for (const a of SALE_ATTRIBUTES) expect(p, `${p.ProductId} released`).not.to.have.key(a);
      continue;
    }
    const order = store.orders.get(p.SoldToOrderId ?? "");
    expect(order, `${p.ProductId} sold to ${p.SoldToOrderId} with no order`).to.not.equal(
      undefined,
    );
    expect(order).to.deep.equal(orderFromSale(p));
  }
}

describe("order path without transactions (domain)", () => {
  const input = (orderId: string, productId: string, customerId = "c1"): PlaceOrderInput => ({
    orderId,
    productId,
    customerId,
  });

  it("a sale claims the product with the whole order and writes that order", async () => {
    const store = seeded(new MemoryStore(), ["p1"], ["c1"]);
    const placed = await placeOrder(store, input("o1", "p1"), clockIn("eu-west-1"));
    expect(placed.created).to.equal(true);
    expect(store.orders.get("o1")).to.deep.equal(placed.order);
    expect(store.products.get("p1")).to.deep.equal({
      ProductId: "p1",
      ProductStatus: "SOLD",
      SoldToOrderId: "o1",
      SoldInRegion: "eu-west-1",
      SoldAt: "2026-11-29T12:00:00.000Z",
      SoldToCustomerId: "c1",
      SoldOrderTotal: 100,
    });
    expect(orderFromSale(store.products.get("p1") as ProductItem)).to.deep.equal(placed.order);
  });

  it("a crash between claim and order: a retry elsewhere completes the original order", async () => {
    // Operations of the first attempt: 0 get order, 1 customer, 2 claim, 3 put order (fails).
    const store = seeded(new MemoryStore(undefined, [{ at: 3, applied: false }]), ["p1"], ["c1"]);
    expect(await codeOf(placeOrder(store, input("o1", "p1"), clockIn("us-east-1")))).to.equal(
      "InjectedFault",
    );
    expect(store.orders.size).to.equal(0);
    expect(store.products.get("p1")?.SoldToOrderId).to.equal("o1");

    const later = clockIn("us-west-2", "2026-11-29T12:00:05.000Z");
    const retry = await placeOrder(store, input("o1", "p1"), later);
    expect(retry.created).to.equal(false);
    expect(retry.order).to.include({
      CreatedInRegion: "us-east-1",
      CreatedAt: "2026-11-29T12:00:00.000Z",
    });
    expect(store.orders.get("o1")).to.deep.equal(retry.order);
    expectRepaired(store);
  });

  it("a claim whose answer was lost and retried by the SDK still makes this request's 201", async () => {
    const inner = seeded(new MemoryStore(), ["p1"], ["c1"]);
    // The first attempt applied; the retry finds the product claimed by this very request.
    const retried: SaleStore = Object.assign(Object.create(inner) as MemoryStore, {
      claimProduct: async (order: OrderItem) => {
        await inner.claimProduct(order);
        return inner.claimProduct(order);
      },
    });
    const placed = await placeOrder(retried, input("o1", "p1"), clockIn("us-east-1"));
    expect(placed.created).to.equal(true);
    expect(inner.orders.get("o1")).to.deep.equal(placed.order);
  });

  it("a crash between claim and order: the query-form read and repair both produce the order", async () => {
    for (const finish of ["read", "repair"] as const) {
      const store = seeded(new MemoryStore(undefined, [{ at: 3, applied: false }]), ["p1"], ["c1"]);
      await codeOf(placeOrder(store, input("o1", "p1"), clockIn("us-east-1")));
      expect(await codeOf(readOrder(store, "o1")), "path form cannot see the claim").to.equal(
        "OrderNotFound",
      );
      if (finish === "read") {
        const view = await readOrder(store, "o1", "p1");
        expect(view.sale).to.include({ orderId: "o1", thisOrder: true });
      } else {
        expect(await repairSale(store, "p1")).to.equal("order-written");
        expect(await repairSale(store, "p1")).to.equal("order-exists");
      }
      expect(store.orders.get("o1"), finish).to.deep.equal(
        orderFromSale(store.products.get("p1") as ProductItem),
      );
      expect((await readOrder(store, "o1")).order.OrderId).to.equal("o1");
    }
  });

  it("the same id for another product is 409 and releases the claim a lost race left", async () => {
    const store = seeded(new MemoryStore(), ["p1", "p2"], ["c1"]);
    // Two requests with one id, interleaved by hand: both read "no order", both claim.
    await placeOrder(store, input("o1", "p1"), clockIn("us-east-1"));
    // The loser's claim, as its own claim write left it before its put failed.
    await store.claimProduct({ ...(store.orders.get("o1") as OrderItem), ProductId: "p2" });
    expect(await codeOf(placeOrder(store, input("o1", "p2"), clockIn("us-west-2")))).to.equal(
      "OrderConflict",
    );
    expect(store.products.get("p2")).to.deep.equal({ ProductId: "p2", ProductStatus: "IN_STOCK" });
    expectRepaired(store);
  });

  it("repair releases a claim whose order id belongs to an order for another product", async () => {
    const store = seeded(new MemoryStore(), ["p1", "p2"], ["c1"]);
    await placeOrder(store, input("o1", "p1"), clockIn("us-east-1"));
    await store.claimProduct({ ...(store.orders.get("o1") as OrderItem), ProductId: "p2" });
    const report = await repairSalesWith(store, ["p1", "p2", "missing"]);
    expect(report["order-exists"]).to.deep.equal(["p1"]);
    expect(report["claim-released"]).to.deep.equal(["p2"]);
    expect(report["no-claim"]).to.deep.equal(["missing"]);
    expectRepaired(store);
  });

  it("repair reports a legacy claim it cannot rebuild instead of inventing an order", async () => {
    const store = new MemoryStore();
    store.products.set("old", { ProductId: "old", ProductStatus: "SOLD", SoldToOrderId: "gone" });
    expect(await repairSale(store, "old")).to.equal("not-rebuildable");
    expect(store.orders.size).to.equal(0);
  });

  const requestArb = fc.record({
    orderId: fc.constantFrom("o1", "o2", "o3"),
    productId: fc.constantFrom("p1", "p2"),
    customerId: fc.constantFrom("c1", "c2"),
    region: fc.constantFrom("us-east-1", "us-west-2"),
    // Some requests also read back (query form) or run repair while sales are in flight.
    then: fc.constantFrom("nothing", "read", "repair"),
  });

  it("any interleaving of sales, reads and repairs, with any one failure, ends consistent", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(requestArb, { minLength: 2, maxLength: 5 }),
        fc.option(fc.record({ at: fc.nat({ max: 25 }), applied: fc.boolean() })),
        async (s, requests, fault) => {
          const store = seeded(
            new MemoryStore((label) => s.schedule(Promise.resolve(), label), fault ? [fault] : []),
            ["p1", "p2"],
            ["c1", "c2"],
          );
          const answers: {
            req: (typeof requests)[number];
            placed?: { created: boolean; order: OrderItem };
            code: string;
          }[] = [];
          const run = async (req: (typeof requests)[number], i: number): Promise<void> => {
            const clock = clockIn(
              req.region,
              new Date(Date.UTC(2026, 10, 29, 12, 0, i)).toISOString(),
            );
            try {
              const placed = await placeOrder(store, req, clock);
              answers.push({ req, placed, code: "ok" });
            } catch (err) {
              answers.push({ req, code: err instanceof DomainError ? err.code : "fault" });
            }
            if (req.then === "read") await codeOf(readOrder(store, req.orderId, req.productId));
            if (req.then === "repair") await codeOf(repairSale(store, req.productId));
          };
          await s.waitFor(Promise.all(requests.map(run)));
          store.settle();

          const acked = answers.filter((a) => a.placed !== undefined);
          // An acknowledged order is stored exactly as acknowledged, and its product names it.
          for (const { placed } of acked) {
            const order = placed?.order as OrderItem;
            expect(store.orders.get(order.OrderId)).to.deep.equal(order);
            expect(store.products.get(order.ProductId)?.SoldToOrderId).to.equal(order.OrderId);
          }
          // One id, one content: never two acknowledgements of different orders for one id.
          for (const a of acked) {
            for (const b of acked) {
              if (a.placed?.order.OrderId !== b.placed?.order.OrderId) continue;
              expect(a.placed?.order).to.deep.equal(b.placed?.order);
            }
          }
          // 201 at most once per order id.
          const created = acked
            .filter((a) => a.placed?.created)
            .map((a) => a.placed?.order.OrderId);
          expect(new Set(created).size).to.equal(created.length);
          // Without a failure, the sale path alone leaves nothing to repair.
          if (fault === null) {
            const report = await repairSalesWith(store, ["p1", "p2"]);
            expect(report["order-written"], s.report().join("\n")).to.deep.equal([]);
            expect(report["claim-released"], s.report().join("\n")).to.deep.equal([]);
          } else {
            await repairSalesWith(store, ["p1", "p2"]);
          }
          expectRepaired(store);
        },
      ),
      { numRuns: 300, interruptAfterTimeLimit: 20_000 },
    );
  });
});

describe("DynamoSaleStore against a mocked client", () => {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "us-east-1" }));
  const ddb = mockClient(doc);
  const tables = { customers: "t-customers", products: "t-products", orders: "t-orders" };
  const store = new DynamoSaleStore(doc, tables);
  const order: OrderItem = {
    OrderId: "o1",
    ProductId: "p1",
    CustomerId: "c1",
    OrderStatus: "CONFIRMED",
    OrderTotal: 100,
    CreatedAt: "2026-11-29T12:00:00.000Z",
    CreatedInRegion: "us-east-1",
  };
  const conditionFailed = (item?: Record<string, unknown>) =>
    new ConditionalCheckFailedException({
      message: "The conditional request failed",
      $metadata: {},
      ...(item ? { Item: marshall(item) } : {}),
    });

  beforeEach(() => ddb.reset());
  after(() => ddb.restore());

  it("claims with one conditional UpdateItem that records the whole order", async () => {
    ddb.on(UpdateCommand).resolves({});
    expect(await store.claimProduct(order)).to.deep.equal({ claimed: true });
    expect(ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input)).to.deep.equal([
      {
        TableName: "t-products",
        Key: { ProductId: "p1" },
        UpdateExpression:
          "SET ProductStatus = :sold, SoldToOrderId = :SoldToOrderId, SoldInRegion = :SoldInRegion, SoldAt = :SoldAt, SoldToCustomerId = :SoldToCustomerId, SoldOrderTotal = :SoldOrderTotal",
        ConditionExpression: "ProductStatus = :inStock",
        ExpressionAttributeValues: {
          ":sold": "SOLD",
          ":inStock": "IN_STOCK",
          ":SoldToOrderId": "o1",
          ":SoldInRegion": "us-east-1",
          ":SoldAt": "2026-11-29T12:00:00.000Z",
          ":SoldToCustomerId": "c1",
          ":SoldOrderTotal": 100,
        },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      },
    ]);
  });

  it("a failed claim returns the product as it is, or none when it does not exist", async () => {
    const sold = { ProductId: "p1", ProductStatus: "SOLD", SoldToOrderId: "o9" };
    ddb.on(UpdateCommand).rejectsOnce(conditionFailed(sold)).rejectsOnce(conditionFailed());
    expect(await store.claimProduct(order)).to.deep.equal({ claimed: false, product: sold });
    expect(await store.claimProduct(order)).to.deep.equal({ claimed: false, product: undefined });
  });

  it("puts the order only if absent and returns the existing one otherwise", async () => {
    const other = { ...order, ProductId: "p2" };
    ddb.on(PutCommand).resolvesOnce({}).rejectsOnce(conditionFailed(other));
    expect(await store.putOrder(order)).to.deep.equal({ written: true });
    expect(await store.putOrder(order)).to.deep.equal({ written: false, existing: other });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).to.deep.equal({
      TableName: "t-orders",
      Item: order,
      ConditionExpression: "attribute_not_exists(OrderId)",
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    });
  });

  it("releases only a claim still naming the order, removing every sale attribute", async () => {
    ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    expect(await store.releaseClaim("p1", "o1")).to.equal(true);
    expect(await store.releaseClaim("p1", "o1")).to.equal(false);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).to.deep.equal({
      TableName: "t-products",
      Key: { ProductId: "p1" },
      UpdateExpression:
        "SET ProductStatus = :inStock REMOVE SoldToOrderId, SoldInRegion, SoldAt, SoldToCustomerId, SoldOrderTotal",
      ConditionExpression: "ProductStatus = :sold AND SoldToOrderId = :order",
      ExpressionAttributeValues: { ":inStock": "IN_STOCK", ":sold": "SOLD", ":order": "o1" },
    });
  });

  it("reads with strongly consistent GetItem only", async () => {
    ddb.on(GetCommand).resolves({ Item: { CustomerId: "c1" } });
    expect(await store.customerExists("c1")).to.equal(true);
    await store.getOrder("o1");
    await store.getProduct("p1");
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input)).to.deep.equal([
      { TableName: "t-customers", Key: { CustomerId: "c1" }, ConsistentRead: true },
      { TableName: "t-orders", Key: { OrderId: "o1" }, ConsistentRead: true },
      { TableName: "t-products", Key: { ProductId: "p1" }, ConsistentRead: true },
    ]);
    expect(ddb.calls().length).to.equal(3);
  });

  it("a write conflict with another region (MRSC) is a retry-safe 503 conflict", async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(UpdateCommand).rejects(
      new ReplicatedWriteConflictException({
        message:
          "One or more items in this request are being modified by a request in another Region.",
        $metadata: {},
      }),
    );
    ddb.on(GetCommand, { TableName: "t-customers" }).resolves({ Item: { CustomerId: "c1" } });
    const err = await placeOrder(
      store,
      { customerId: "c1", productId: "p1", orderId: "o1" },
      clockIn("us-east-1"),
    ).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DomainError);
    const res = parse(
      toHttp(err, { region: "us-east-1", logger: new Logger({ logLevel: "SILENT" }) }),
    );
    expect(res.status).to.equal(503);
    expect(res.body).to.deep.equal({
      error: "ServiceUnavailable",
      message: "a concurrent request, possibly in another region, wrote the same items; retry",
    });
    expect(ddb.commandCalls(PutCommand)).to.have.length(0);
  });
});

describe("the SDK's retry of ReplicatedWriteConflictException", () => {
  /** A DynamoDB endpoint that answers `conflicts` write conflicts, then success. */
  function conflictingEndpoint(conflicts: number): { handler: object; requests: () => number } {
    let n = 0;
    const handler = {
      handle: async () => {
        n++;
        const conflict = n <= conflicts;
        const body = conflict
          ? {
              __type: "com.amazonaws.dynamodb.v20120810#ReplicatedWriteConflictException",
              message:
                "One or more items in this request are being modified by a request in another Region.",
            }
          : {};
        const { HttpResponse } = await import("@smithy/protocol-http");
        const { Readable } = await import("node:stream");
        return {
          response: new HttpResponse({
            statusCode: conflict ? 400 : 200,
            headers: { "content-type": "application/x-amz-json-1.0" },
            body: Readable.from([Buffer.from(JSON.stringify(body))]),
          }),
        };
      },
    };
    return { handler, requests: () => n };
  }

  function storeOver(handler: object, maxAttempts: number): DynamoSaleStore {
    const client = new DynamoDBClient({
      region: "us-east-1",
      credentials: { accessKeyId: "x", secretAccessKey: "y" },
      maxAttempts,
      requestHandler: handler as never,
    });
    const doc = DynamoDBDocumentClient.from(client);
    return new DynamoSaleStore(doc, { customers: "c", products: "p", orders: "o" });
  }

  const order: OrderItem = {
    OrderId: "o1",
    ProductId: "p1",
    CustomerId: "c1",
    OrderStatus: "CONFIRMED",
    OrderTotal: 100,
    CreatedAt: "2026-11-29T12:00:00.000Z",
    CreatedInRegion: "us-east-1",
  };

  it("retries a claim that conflicted with another region until it goes through", async () => {
    const endpoint = conflictingEndpoint(2);
    expect(await storeOver(endpoint.handler, 3).claimProduct(order)).to.deep.equal({
      claimed: true,
    });
    expect(endpoint.requests()).to.equal(3);
  });

  it("after the API's bounded attempts, answers a 503 conflict instead of retrying forever", async () => {
    const endpoint = conflictingEndpoint(100);
    const err = await storeOver(endpoint.handler, SDK_LIMITS.maxAttempts)
      .claimProduct(order)
      .catch((e: unknown) => e);
    expect(endpoint.requests()).to.equal(SDK_LIMITS.maxAttempts);
    expect(err).to.be.instanceOf(DomainError);
    expect((err as DomainError).code).to.equal("ServiceUnavailable");
    expect((err as DomainError).message).to.include("another region");
  });
});
