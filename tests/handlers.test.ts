/**
 * Handler behaviour against a real DynamoDB engine (DynamoDB Local), through the same dispatcher
 * the sandbox uses. One JVM for the file; each test gets its own freshly created tables.
 */
import { expect } from "chai";
import { once } from "node:events";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { createApp } from "../functions/app";
import { canaryItemJson } from "../functions/data/canary-items";
import {
  CANARY_CUSTOMER_ID,
  CANARY_DATA_TABLES,
  CANARY_ORDER_ID,
  CANARY_PRODUCT_ID,
  canaryData,
} from "../functions/domain/canary-data";
import { ID_PATTERN } from "../functions/domain/validation";
import type { ApiHandler } from "../functions/runtime";
import type { TableKey } from "../functions/tables";
import { createTables, freePort, useDynamoLocal } from "./support/dynamo-local";
import { testDeps, type MetricsRecorder } from "./support/deps";
import { apiEvent, parse, type Parsed, type RequestSpec } from "./support/events";
import { putItems, scanAll, snapshot, type Item } from "./support/tables";

const REGION = "us-east-1";

describe("handlers against DynamoDB Local", function () {
  const local = useDynamoLocal();
  let tables: Record<TableKey, string>;
  let app: ApiHandler;
  let metrics: MetricsRecorder;
  let prefix = 0;

  beforeEach(async () => {
    const { client, endpoint } = local.instance();
    tables = await createTables(client, `handlers-${++prefix}`);
    const deps = testDeps({ endpoint, tables, region: REGION });
    metrics = deps.metrics;
    app = createApp(deps);
  });

  /** Calls the app; every response must be JSON and name the region that served it. */
  async function call<T = Record<string, unknown>>(
    spec: RequestSpec,
    via: ApiHandler = app,
  ): Promise<Parsed<T>> {
    const res = parse<T>(await via(apiEvent(spec)));
    expect(res.headers["content-type"]).to.equal("application/json");
    expect(res.headers["x-served-by-region"], `${spec.method} ${spec.path}`).to.be.a("string").and
      .not.empty;
    return res;
  }

  const client = () => local.instance().client;
  const scan = (key: TableKey) => scanAll(client(), tables[key]);
  const seedCustomers = (...ids: string[]) =>
    putItems(
      client(),
      tables.customers,
      ids.map((CustomerId) => ({ CustomerId })),
    );
  const seedProducts = (...ids: string[]) =>
    putItems(
      client(),
      tables.products,
      ids.map((ProductId) => ({ ProductId, ProductStatus: "IN_STOCK" })),
    );
  const order = (customerId: string, productId: string, orderId?: string): RequestSpec => ({
    method: "POST",
    path: "/orders",
    query: { customerId, productId, ...(orderId !== undefined ? { orderId } : {}) },
  });

  describe("orders", () => {
    beforeEach(async () => {
      await seedCustomers("c1", "c2");
      await seedProducts("p1", "p2");
    });

    it("creates an order and reads it back with both GET forms", async () => {
      const created = await call<Item>(order("c1", "p1"));
      expect(created.status).to.equal(201);
      const o = created.body;
      expect(o).to.include({
        CustomerId: "c1",
        ProductId: "p1",
        OrderStatus: "CONFIRMED",
        OrderTotal: 100,
        CreatedInRegion: REGION,
      });
      expect(o.OrderId).to.match(/^[0-9A-HJKMNP-TV-Z]{26}$/); // a ULID
      expect(new Date(o.CreatedAt as string).toISOString()).to.equal(o.CreatedAt);
      expect(created.headers.location).to.equal(`/orders/${o.OrderId as string}`);

      // The product names the order that bought it, with the region and time of the sale.
      const sold = {
        ProductId: "p1",
        ProductStatus: "SOLD",
        SoldToOrderId: o.OrderId,
        SoldInRegion: REGION,
        SoldAt: o.CreatedAt,
        SoldToCustomerId: "c1",
        SoldOrderTotal: 100,
      };
      const sale = { orderId: o.OrderId, region: REGION, at: o.CreatedAt, thisOrder: true };
      const expected = { order: o, product: sold, sale };
      const byQuery = await call({
        method: "GET",
        path: "/orders",
        query: { orderId: o.OrderId as string, productId: "p1" },
      });
      expect(byQuery.status).to.equal(200);
      expect(byQuery.body).to.deep.equal(expected);
      const byPath = await call({ method: "GET", path: `/orders/${o.OrderId as string}` });
      expect(byPath.status).to.equal(200);
      expect(byPath.body).to.deep.equal(expected);
    });

    it("accepts the order as a JSON body, also base64-encoded, and agreeing query values", async () => {
      const plain = await call({
        method: "POST",
        path: "/orders",
        body: { customerId: "c1", productId: "p1", orderId: "o-1" },
      });
      expect(plain.status).to.equal(201);
      expect(plain.body.OrderId).to.equal("o-1");
      const encoded = await call({
        method: "POST",
        path: "/orders?productId=p2",
        body: { customerId: "c2", productId: "p2" },
        base64: true,
      });
      expect(encoded.status).to.equal(201);
      expect(encoded.body).to.include({ CustomerId: "c2", ProductId: "p2" });
      expect((await scan("orders")).map((i) => i.OrderId)).to.have.members([
        "o-1",
        encoded.body.OrderId,
      ]);
    });

    it("sells a product once: a second order is 409 ProductSoldOut and the first order stands", async () => {
      const first = await call(order("c1", "p1"));
      expect(first.status).to.equal(201);
      const second = await call(order("c2", "p1"));
      expect(second.status).to.equal(409);
      expect(second.body).to.deep.equal({
        error: "ProductSoldOut",
        message: "product p1 is sold out",
      });
      expect(await scan("orders")).to.deep.equal([first.body]);
      expect((await scan("products")).find((p) => p.ProductId === "p1")).to.deep.equal({
        ProductId: "p1",
        ProductStatus: "SOLD",
        SoldToOrderId: first.body.OrderId,
        SoldInRegion: REGION,
        SoldAt: first.body.CreatedAt,
        SoldToCustomerId: "c1",
        SoldOrderTotal: 100,
      });
    });

    it("an unknown customer is 404 CustomerNotFound and writes nothing", async () => {
      const before = await snapshot(client(), tables);
      const res = await call(order("nobody", "p1"));
      expect(res.status).to.equal(404);
      expect(res.body).to.deep.equal({
        error: "CustomerNotFound",
        message: "customer nobody not found",
      });
      expect(await snapshot(client(), tables)).to.deep.equal(before);
    });

    it("an unknown product is 404 ProductNotFound and writes nothing", async () => {
      const before = await snapshot(client(), tables);
      const res = await call(order("c1", "nothing"));
      expect(res.status).to.equal(404);
      expect(res.body).to.deep.equal({
        error: "ProductNotFound",
        message: "product nothing not found",
      });
      expect(await snapshot(client(), tables)).to.deep.equal(before);
    });

    it("a retry with the same order id and content returns the existing order and sells once", async () => {
      const first = await call(order("c1", "p1", "retry-1"));
      expect(first.status).to.equal(201);
      const retry = await call(order("c1", "p1", "retry-1"));
      expect(retry.status).to.equal(200);
      expect(retry.body).to.deep.equal(first.body);
      expect(await scan("orders")).to.deep.equal([first.body]);
    });

    it("the same order id with other content is 409 OrderConflict and leaves the other product unsold", async () => {
      await call(order("c1", "p1", "dup-1"));
      const before = await snapshot(client(), tables);
      const res = await call(order("c1", "p2", "dup-1"));
      expect(res.status).to.equal(409);
      expect(res.body.error).to.equal("OrderConflict");
      expect(res.body.message).to.include("dup-1");
      expect(await snapshot(client(), tables)).to.deep.equal(before);
    });

    it("a read shows when the product names another order (a replicated sale won the product)", async () => {
      const mine = await call<Item>(order("c1", "p1", "lost-product"));
      expect(mine.status).to.equal(201);
      // What last-writer-wins replication leaves when another region sold p1 to another order.
      const theirs = {
        ProductId: "p1",
        ProductStatus: "SOLD",
        SoldToOrderId: "won-product",
        SoldInRegion: "us-west-2",
        SoldAt: "2026-01-01T00:00:00.000Z",
      };
      await putItems(client(), tables.products, [theirs]);
      const sale = { orderId: "won-product", region: "us-west-2", at: theirs.SoldAt };
      for (const spec of [
        { method: "GET", path: "/orders/lost-product" },
        { method: "GET", path: "/orders", query: { orderId: "lost-product", productId: "p1" } },
      ] as RequestSpec[]) {
        const res = await call(spec);
        expect(res.status).to.equal(200);
        expect(res.body).to.deep.equal({
          order: mine.body,
          product: theirs,
          sale: { ...sale, thisOrder: false },
        });
      }
    });

    it("a product without a recorded sale reads back with sale null", async () => {
      const mine = await call<Item>(order("c1", "p2", "old-sale"));
      await putItems(client(), tables.products, [{ ProductId: "p2", ProductStatus: "SOLD" }]);
      const res = await call({ method: "GET", path: "/orders/old-sale" });
      expect(res.body).to.deep.equal({
        order: mine.body,
        product: { ProductId: "p2", ProductStatus: "SOLD" },
        sale: null,
      });
    });

    it("reading an unknown order is 404 OrderNotFound in both forms, as is an order for another product", async () => {
      const created = await call<Item>(order("c1", "p1"));
      const cases: RequestSpec[] = [
        { method: "GET", path: "/orders/missing" },
        { method: "GET", path: "/orders", query: { orderId: "missing", productId: "p1" } },
        {
          method: "GET",
          path: "/orders",
          query: { orderId: created.body.OrderId as string, productId: "p2" },
        },
      ];
      for (const spec of cases) {
        const res = await call(spec);
        expect(res.status, JSON.stringify(spec)).to.equal(404);
        expect(res.body.error).to.equal("OrderNotFound");
      }
    });

    it("records WriteTime and ReadTime in milliseconds with the seed's Region dimension", async () => {
      const created = await call<Item>(order("c1", "p1"));
      await call({ method: "GET", path: `/orders/${created.body.OrderId as string}` });
      const seen = metrics.published.map((m) => ({
        name: m.name,
        unit: m.unit,
        dimensions: m.dimensions,
      }));
      expect(seen).to.deep.equal([
        { name: "WriteTime", unit: "Milliseconds", dimensions: { Region: `${REGION}-${REGION}` } },
        { name: "ReadTime", unit: "Milliseconds", dimensions: { Region: `${REGION}-${REGION}` } },
      ]);
    });
  });

  describe("the canary's items, as the primary stack writes them", () => {
    beforeEach(async () => {
      const json = canaryItemJson(REGION);
      for (const table of CANARY_DATA_TABLES) {
        await client().send(
          new PutItemCommand({ TableName: tables[table], Item: JSON.parse(json[table]) }),
        );
      }
    });

    it("read back through both canary routes with the ids the canaries ask for", async () => {
      const byOrder = await call<{ order: Item; product: Item }>({
        method: "GET",
        path: `/orders/${CANARY_ORDER_ID}`,
      });
      expect(byOrder.status).to.equal(200);
      expect(byOrder.body.order).to.deep.equal(canaryData(REGION).orders);
      expect(byOrder.body.product).to.deep.equal(canaryData(REGION).products);
      const byQuery = await call({
        method: "GET",
        path: "/orders",
        query: { orderId: CANARY_ORDER_ID, productId: CANARY_PRODUCT_ID },
      });
      expect(byQuery.status).to.equal(200);
      const product = await call({ method: "GET", path: `/products/${CANARY_PRODUCT_ID}` });
      expect(product.status).to.equal(200);
      expect(product.body.ProductId).to.equal(CANARY_PRODUCT_ID);
    });

    it("cannot be bought: the canary's product is already sold to the canary's order", async () => {
      const res = await call({
        method: "POST",
        path: "/orders",
        query: { customerId: CANARY_CUSTOMER_ID, productId: CANARY_PRODUCT_ID },
      });
      expect(res.status).to.equal(409);
      expect(res.body.error).to.equal("ProductSoldOut");
    });
  });

  describe("fill", () => {
    it("writes more than one batch of every kind and returns ids that all exist", async () => {
      const res = await call<{ customers: string[]; products: string[]; orders: string[] }>({
        method: "POST",
        path: "/fill?cust=60&product=60&order=60",
      });
      expect(res.status).to.equal(201);
      const { customers, products, orders } = res.body;
      expect([customers.length, products.length, orders.length]).to.deep.equal([60, 60, 60]);
      for (const id of [...customers, ...products, ...orders]) expect(id).to.match(ID_PATTERN);

      const storedCustomers = await scan("customers");
      expect(storedCustomers.map((c) => c.CustomerId)).to.have.members(customers);
      const storedProducts = await scan("products");
      const inStock = storedProducts
        .filter((p) => p.ProductStatus === "IN_STOCK")
        .map((p) => p.ProductId);
      const sold = storedProducts.filter((p) => p.ProductStatus === "SOLD").map((p) => p.ProductId);
      expect(inStock).to.have.members(products);
      expect(sold).to.have.length(60);
      const storedOrders = await scan("orders");
      expect(storedOrders.map((o) => o.OrderId)).to.have.members(orders);
      // Every order is for its own sold product, which names it, and an existing customer.
      expect(storedOrders.map((o) => o.ProductId)).to.have.members(sold);
      const buyerOf = new Map(storedProducts.map((p) => [p.ProductId, p.SoldToOrderId]));
      for (const o of storedOrders) expect(buyerOf.get(o.ProductId)).to.equal(o.OrderId);
      for (const o of storedOrders) expect(customers).to.include(o.CustomerId);
    });

    it("gives orders one extra customer when none are requested", async () => {
      const res = await call<{ customers: string[]; products: string[]; orders: string[] }>({
        method: "POST",
        path: "/fill?order=3",
      });
      expect(res.status).to.equal(201);
      expect(res.body.customers).to.have.length(1);
      expect(res.body.products).to.deep.equal([]);
      const stored = await scan("orders");
      expect(stored.map((o) => o.CustomerId)).to.deep.equal(Array(3).fill(res.body.customers[0]));
    });
  });

  describe("products", () => {
    it("pages through every product exactly once", async () => {
      const filled = await call<{ products: string[] }>({
        method: "POST",
        path: "/fill?product=57",
      });
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await call<{ items: Item[]; cursor?: string }>({
          method: "GET",
          path: "/products",
          query: { limit: "10", ...(cursor !== undefined ? { cursor } : {}) },
        });
        expect(res.status).to.equal(200);
        expect(res.body.items.length).to.be.at.most(10);
        seen.push(...res.body.items.map((p) => p.ProductId as string));
        cursor = res.body.cursor;
        pages++;
        expect(pages, "pagination does not end").to.be.below(20);
      } while (cursor !== undefined);
      expect(seen).to.have.length(57);
      expect(seen).to.have.members(filled.body.products);
    });

    it("returns one product by id, or 404 ProductNotFound", async () => {
      await seedProducts("p9");
      const found = await call({ method: "GET", path: "/products/p9" });
      expect(found.status).to.equal(200);
      expect(found.body).to.deep.equal({ ProductId: "p9", ProductStatus: "IN_STOCK" });
      const missing = await call({ method: "GET", path: "/products/p404" });
      expect(missing.status).to.equal(404);
      expect(missing.body).to.deep.equal({
        error: "ProductNotFound",
        message: "product p404 not found",
      });
    });
  });

  describe("kv", () => {
    it("stores any JSON value and reads it back", async () => {
      const value = { a: [1, "two", null, { deep: true }], n: 1.5 };
      const put = await call({
        method: "PUT",
        path: "/kv/greeting",
        body: { value, ttlSeconds: 3600 },
      });
      expect(put.status).to.equal(200);
      expect(put.body).to.include.keys("key", "value", "updatedAt", "expiresAt");
      expect(put.body.value).to.deep.equal(value);
      const got = await call({ method: "GET", path: "/kv/greeting" });
      expect(got.status).to.equal(200);
      expect(got.body).to.deep.equal(put.body);
      const [stored] = await scan("kv");
      expect(stored?.ExpiresAt).to.be.a("number"); // the TTL attribute of tables.ts
    });

    it("an unknown key is 404 KeyNotFound, and so is an expired one DynamoDB has not deleted yet", async () => {
      await putItems(client(), tables.kv, [
        { Key: "old", Value: "1", UpdatedAt: "2020-01-01T00:00:00.000Z", ExpiresAt: 1_600_000_000 },
      ]);
      for (const key of ["never-set", "old"]) {
        const res = await call({ method: "GET", path: `/kv/${key}` });
        expect(res.status).to.equal(404);
        expect(res.body).to.deep.equal({ error: "KeyNotFound", message: `key ${key} not found` });
      }
    });
  });

  describe("health", () => {
    it("is 200 with a passing check per table when DynamoDB answers", async () => {
      const res = await call<{
        status: string;
        region: string;
        checks: { table: string; ok: boolean }[];
      }>({
        method: "GET",
        path: "/health",
      });
      expect(res.status).to.equal(200);
      expect(res.body.status).to.equal("ok");
      expect(res.body.region).to.equal(REGION);
      expect(res.body.checks.map((c) => [c.table, c.ok])).to.deep.equal([
        ["customers", true],
        ["products", true],
        ["orders", true],
        ["kv", true],
      ]);
    });

    it("is 503 naming the one table that does not answer", async () => {
      const deps = testDeps({
        endpoint: local.instance().endpoint,
        tables: { ...tables, kv: "no-such-table" },
      });
      const res = await call<Record<string, unknown>>(
        { method: "GET", path: "/health" },
        createApp(deps),
      );
      expect(res.status).to.equal(503);
      expect(res.body).to.have.all.keys("error", "message", "checks");
      expect(res.body.error).to.equal("Unhealthy");
      expect(res.body.message).to.equal(`unhealthy in ${REGION}: kv table not found`);
      const checks = res.body.checks as { table: string; ok: boolean; reason?: string }[];
      expect(checks.filter((c) => !c.ok).map((c) => [c.table, c.reason])).to.deep.equal([
        ["kv", "table not found"],
      ]);
    });

    it("is 503 naming every table when DynamoDB is unreachable", async () => {
      const closed = `http://127.0.0.1:${await freePort()}`;
      const res = await call<Record<string, unknown>>(
        { method: "GET", path: "/health" },
        createApp(testDeps({ endpoint: closed, tables })),
      );
      expect(res.status).to.equal(503);
      expect(res.body.error).to.equal("Unhealthy");
      for (const table of ["customers", "products", "orders", "kv"])
        expect(res.body.message).to.include(table);
      expect((res.body.checks as { ok: boolean }[]).every((c) => !c.ok)).to.equal(true);
    });

    it("is 503 'timed out' when DynamoDB accepts connections but never answers", async () => {
      const sockets = new Set<Socket>();
      const silent = createServer((socket) => void sockets.add(socket)).listen(0, "127.0.0.1");
      await once(silent, "listening");
      const { port } = silent.address() as AddressInfo;
      try {
        const deps = testDeps({
          endpoint: `http://127.0.0.1:${port}`,
          tables,
          healthTimeoutMs: 300,
        });
        const res = await call<Record<string, unknown>>(
          { method: "GET", path: "/health" },
          createApp(deps),
        );
        expect(res.status).to.equal(503);
        const checks = res.body.checks as { table: string; ok: boolean; reason?: string }[];
        expect(checks.map((c) => [c.table, c.ok, c.reason])).to.deep.equal([
          ["customers", false, "timed out"],
          ["products", false, "timed out"],
          ["orders", false, "timed out"],
          ["kv", false, "timed out"],
        ]);
      } finally {
        for (const socket of sockets) socket.destroy();
        silent.close();
      }
    });

    it("a data route is 503 ServiceUnavailable with retry-after when DynamoDB is unreachable", async () => {
      const closed = `http://127.0.0.1:${await freePort()}`;
      const unreachable = createApp(testDeps({ endpoint: closed, tables }));
      const res = await call(order("c1", "p1"), unreachable);
      expect(res.status).to.equal(503);
      expect(res.body).to.deep.equal({
        error: "ServiceUnavailable",
        message: "DynamoDB is unavailable; retry",
      });
      expect(res.headers["retry-after"]).to.equal("1");
    });
  });

  it("serves two regions side by side in one process, each naming itself", async () => {
    const { endpoint } = local.instance();
    const west = createApp(testDeps({ endpoint, tables, region: "us-west-2" }));
    await seedCustomers("c1");
    await seedProducts("p1");
    const created = await call<Item>(order("c1", "p1"), west);
    expect(created.headers["x-served-by-region"]).to.equal("us-west-2");
    expect(created.body.CreatedInRegion).to.equal("us-west-2");
    const read = await call({ method: "GET", path: `/orders/${created.body.OrderId as string}` });
    expect(read.headers["x-served-by-region"]).to.equal(REGION);
    const missing = await call({ method: "GET", path: "/nowhere" }, west);
    expect([missing.status, missing.headers["x-served-by-region"]]).to.deep.equal([
      404,
      "us-west-2",
    ]);
  });
});
