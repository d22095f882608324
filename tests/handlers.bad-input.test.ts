/**
 * Bad input on every route, table-driven, through the dispatcher against DynamoDB Local: each
 * case gets its 4xx, a `{ error, message }` body naming the field and showing no stack, and
 * leaves every table exactly as it was.
 */
import { expect } from "chai";
import { createApp } from "../functions/app";
import { MAX_BODY_BYTES } from "../functions/request";
import type { ApiHandler } from "../functions/runtime";
import type { TableKey } from "../functions/tables";
import { encodeCursor } from "../functions/domain/products";
import { createTables, useDynamoLocal } from "./support/dynamo-local";
import { testDeps } from "./support/deps";
import { apiEvent, parse, type RequestSpec } from "./support/events";
import { putItems, snapshot, type Item } from "./support/tables";

interface BadCase {
  readonly name: string;
  readonly req: RequestSpec;
  readonly status: number;
  readonly error: string;
  /** Text the message must contain: the offending field, parameter or value. */
  readonly mentions: string;
  /** Expected `allow` header, for 405s. */
  readonly allow?: string;
}

const b64url = (text: string): string => Buffer.from(text, "utf8").toString("base64url");
const big = (bytes: number): string => "x".repeat(bytes);
const longId = "a".repeat(129);
const order = (query: Record<string, string>, body?: unknown): RequestSpec => ({
  method: "POST",
  path: "/orders",
  query,
  ...(body !== undefined ? { body } : {}),
});
const ok = { customerId: "c1", productId: "p1" };

const CASES: BadCase[] = [
  // POST /orders
  {
    name: "order: customerId missing",
    req: order({ productId: "p1" }),
    status: 400,
    error: "BadRequest",
    mentions: "customerId",
  },
  {
    name: "order: productId missing",
    req: order({ customerId: "c1" }),
    status: 400,
    error: "BadRequest",
    mentions: "productId",
  },
  {
    name: "order: unknown query parameter",
    req: order({ ...ok, color: "red" }),
    status: 400,
    error: "BadRequest",
    mentions: "color",
  },
  {
    name: "order: parameter given twice",
    req: { method: "POST", path: "/orders?customerId=c1&customerId=c2&productId=p1" },
    status: 400,
    error: "BadRequest",
    mentions: "customerId",
  },
  {
    name: "order: empty id",
    req: order({ customerId: "", productId: "p1" }),
    status: 400,
    error: "BadRequest",
    mentions: "customerId",
  },
  {
    name: "order: id too long",
    req: order({ customerId: "c1", productId: longId }),
    status: 400,
    error: "BadRequest",
    mentions: "productId",
  },
  {
    name: "order: id with unsafe characters",
    req: order({ customerId: "c1", productId: "p1", orderId: "a b/c" }),
    status: 400,
    error: "BadRequest",
    mentions: "orderId",
  },
  {
    name: "order: invalid JSON body",
    req: order({}, "{"),
    status: 400,
    error: "BadRequest",
    mentions: "body",
  },
  {
    name: "order: body is not an object",
    req: order({}, [1, 2]),
    status: 400,
    error: "BadRequest",
    mentions: "body must be a JSON object",
  },
  {
    name: "order: unknown body field",
    req: order({}, { ...ok, coupon: "FREE" }),
    status: 400,
    error: "BadRequest",
    mentions: "coupon",
  },
  {
    name: "order: body field of the wrong type",
    req: order({}, { customerId: 5, productId: "p1" }),
    status: 400,
    error: "BadRequest",
    mentions: "customerId",
  },
  {
    name: "order: query and body disagree",
    req: order({ customerId: "c1" }, { customerId: "c2", productId: "p1" }),
    status: 400,
    error: "BadRequest",
    mentions: "customerId",
  },
  {
    name: "order: oversized body",
    req: order({}, { ...ok, pad: big(MAX_BODY_BYTES) }),
    status: 413,
    error: "PayloadTooLarge",
    mentions: "body",
  },
  {
    name: "order: oversized base64 body",
    req: { ...order({}, { ...ok, pad: big(MAX_BODY_BYTES) }), base64: true },
    status: 413,
    error: "PayloadTooLarge",
    mentions: "body",
  },
  {
    name: "order: body that is not base64",
    req: { method: "POST", path: "/orders", body: "not base64!", base64: "as-is" },
    status: 400,
    error: "BadRequest",
    mentions: "body",
  },
  // POST /fill
  {
    name: "fill: no counts",
    req: { method: "POST", path: "/fill" },
    status: 400,
    error: "BadRequest",
    mentions: "cust",
  },
  {
    name: "fill: all counts zero",
    req: { method: "POST", path: "/fill?cust=0&product=0&order=0" },
    status: 400,
    error: "BadRequest",
    mentions: "must not all be 0",
  },
  {
    name: "fill: negative count",
    req: { method: "POST", path: "/fill?cust=-1" },
    status: 400,
    error: "BadRequest",
    mentions: "cust",
  },
  {
    name: "fill: count over the limit",
    req: { method: "POST", path: "/fill?product=1001" },
    status: 400,
    error: "BadRequest",
    mentions: "product",
  },
  {
    name: "fill: huge count",
    req: { method: "POST", path: "/fill?order=99999999999999999999" },
    status: 400,
    error: "BadRequest",
    mentions: "order",
  },
  {
    name: "fill: count not a number",
    req: { method: "POST", path: "/fill?cust=ten" },
    status: 400,
    error: "BadRequest",
    mentions: "cust",
  },
  {
    name: "fill: fractional count",
    req: { method: "POST", path: "/fill?cust=1.5" },
    status: 400,
    error: "BadRequest",
    mentions: "cust",
  },
  {
    name: "fill: count in exponent form",
    req: { method: "POST", path: "/fill?cust=1e2" },
    status: 400,
    error: "BadRequest",
    mentions: "cust",
  },
  {
    name: "fill: unknown parameter",
    req: { method: "POST", path: "/fill?customers=5" },
    status: 400,
    error: "BadRequest",
    mentions: "customers",
  },
  {
    name: "fill: a body",
    req: { method: "POST", path: "/fill?cust=1", body: { cust: 1 } },
    status: 400,
    error: "BadRequest",
    mentions: "body",
  },
  // GET /orders and /orders/{orderId}
  {
    name: "read: productId missing",
    req: { method: "GET", path: "/orders?orderId=o1" },
    status: 400,
    error: "BadRequest",
    mentions: "productId",
  },
  {
    name: "read: orderId missing",
    req: { method: "GET", path: "/orders?productId=p1" },
    status: 400,
    error: "BadRequest",
    mentions: "orderId",
  },
  {
    name: "read: unknown parameter",
    req: { method: "GET", path: "/orders?orderId=o1&productId=p1&x=1" },
    status: 400,
    error: "BadRequest",
    mentions: "x",
  },
  {
    name: "read by path: query parameter",
    req: { method: "GET", path: "/orders/o1?productId=p1" },
    status: 400,
    error: "BadRequest",
    mentions: "productId",
  },
  {
    name: "read by path: unsafe id",
    req: { method: "GET", path: "/orders/a%20b" },
    status: 400,
    error: "BadRequest",
    mentions: "orderId",
  },
  {
    name: "read by path: malformed percent-encoding",
    req: { method: "GET", path: "/orders/%E0%A4%A" },
    status: 400,
    error: "BadRequest",
    mentions: "path",
  },
  {
    name: "read: a body",
    req: { method: "GET", path: "/orders/o1", body: "{}" },
    status: 400,
    error: "BadRequest",
    mentions: "body",
  },
  // GET /products and /products/{productId}
  {
    name: "products: limit zero",
    req: { method: "GET", path: "/products?limit=0" },
    status: 400,
    error: "BadRequest",
    mentions: "limit",
  },
  {
    name: "products: limit over the maximum",
    req: { method: "GET", path: "/products?limit=101" },
    status: 400,
    error: "BadRequest",
    mentions: "limit",
  },
  {
    name: "products: negative limit",
    req: { method: "GET", path: "/products?limit=-5" },
    status: 400,
    error: "BadRequest",
    mentions: "limit",
  },
  {
    name: "products: limit not a number",
    req: { method: "GET", path: "/products?limit=all" },
    status: 400,
    error: "BadRequest",
    mentions: "limit",
  },
  {
    name: "products: cursor not base64url",
    req: { method: "GET", path: "/products?cursor=!!!" },
    status: 400,
    error: "BadRequest",
    mentions: "cursor",
  },
  {
    name: "products: cursor of another shape",
    req: { method: "GET", path: `/products?cursor=${b64url('{"Foo":"x"}')}` },
    status: 400,
    error: "BadRequest",
    mentions: "cursor",
  },
  {
    name: "products: cursor with a number key",
    req: { method: "GET", path: `/products?cursor=${b64url('{"ProductId":5}')}` },
    status: 400,
    error: "BadRequest",
    mentions: "cursor",
  },
  {
    name: "products: cursor not JSON",
    req: { method: "GET", path: `/products?cursor=${b64url("ProductId")}` },
    status: 400,
    error: "BadRequest",
    mentions: "cursor",
  },
  {
    name: "products: cursor with extra keys",
    req: { method: "GET", path: `/products?cursor=${b64url('{"ProductId":"p1","Scan":"all"}')}` },
    status: 400,
    error: "BadRequest",
    mentions: "cursor",
  },
  {
    name: "products: unknown parameter",
    req: { method: "GET", path: "/products?sort=asc" },
    status: 400,
    error: "BadRequest",
    mentions: "sort",
  },
  {
    name: "product: id too long",
    req: { method: "GET", path: `/products/${longId}` },
    status: 400,
    error: "BadRequest",
    mentions: "productId",
  },
  // PUT /kv/{key} and GET /kv/{key}
  {
    name: "kv put: no body",
    req: { method: "PUT", path: "/kv/k1" },
    status: 400,
    error: "BadRequest",
    mentions: "body",
  },
  {
    name: "kv put: value missing",
    req: { method: "PUT", path: "/kv/k1", body: {} },
    status: 400,
    error: "BadRequest",
    mentions: "value",
  },
  {
    name: "kv put: ttlSeconds zero",
    req: { method: "PUT", path: "/kv/k1", body: { value: 1, ttlSeconds: 0 } },
    status: 400,
    error: "BadRequest",
    mentions: "ttlSeconds",
  },
  {
    name: "kv put: ttlSeconds negative",
    req: { method: "PUT", path: "/kv/k1", body: { value: 1, ttlSeconds: -60 } },
    status: 400,
    error: "BadRequest",
    mentions: "ttlSeconds",
  },
  {
    name: "kv put: ttlSeconds fractional",
    req: { method: "PUT", path: "/kv/k1", body: { value: 1, ttlSeconds: 1.5 } },
    status: 400,
    error: "BadRequest",
    mentions: "ttlSeconds",
  },
  {
    name: "kv put: ttlSeconds a string",
    req: { method: "PUT", path: "/kv/k1", body: { value: 1, ttlSeconds: "60" } },
    status: 400,
    error: "BadRequest",
    mentions: "ttlSeconds",
  },
  {
    name: "kv put: ttlSeconds huge",
    req: { method: "PUT", path: "/kv/k1", body: { value: 1, ttlSeconds: 1e12 } },
    status: 400,
    error: "BadRequest",
    mentions: "ttlSeconds",
  },
  {
    name: "kv put: unknown field",
    req: { method: "PUT", path: "/kv/k1", body: { value: 1, expires: 5 } },
    status: 400,
    error: "BadRequest",
    mentions: "expires",
  },
  {
    name: "kv put: value too large",
    req: { method: "PUT", path: "/kv/k1", body: { value: big(9000) } },
    status: 400,
    error: "BadRequest",
    mentions: "value",
  },
  {
    name: "kv put: invalid JSON",
    req: { method: "PUT", path: "/kv/k1", body: "{'value': 1}" },
    status: 400,
    error: "BadRequest",
    mentions: "body",
  },
  {
    name: "kv put: key too long",
    req: { method: "PUT", path: `/kv/${"k".repeat(257)}`, body: { value: 1 } },
    status: 400,
    error: "BadRequest",
    mentions: "key",
  },
  {
    name: "kv put: query parameter",
    req: { method: "PUT", path: "/kv/k1?ttl=5", body: { value: 1 } },
    status: 400,
    error: "BadRequest",
    mentions: "ttl",
  },
  {
    name: "kv get: unsafe key",
    req: { method: "GET", path: "/kv/a%20b" },
    status: 400,
    error: "BadRequest",
    mentions: "key",
  },
  {
    name: "kv get: oversized body",
    req: { method: "GET", path: "/kv/k1", body: big(MAX_BODY_BYTES + 1) },
    status: 413,
    error: "PayloadTooLarge",
    mentions: "body",
  },
  // GET /health
  {
    name: "health: query parameter",
    req: { method: "GET", path: "/health?deep=1" },
    status: 400,
    error: "BadRequest",
    mentions: "deep",
  },
  // Routing
  {
    name: "unknown route",
    req: { method: "GET", path: "/nope" },
    status: 404,
    error: "NotFound",
    mentions: "/nope",
  },
  {
    name: "unknown nested route",
    req: { method: "GET", path: "/orders/o1/items" },
    status: 404,
    error: "NotFound",
    mentions: "/orders/o1/items",
  },
  {
    name: "unknown method on /orders",
    req: { method: "DELETE", path: "/orders" },
    status: 405,
    error: "MethodNotAllowed",
    mentions: "DELETE",
    allow: "GET, POST",
  },
  {
    name: "unknown method on /kv/{key}",
    req: { method: "PATCH", path: "/kv/k1", body: { value: 1 } },
    status: 405,
    error: "MethodNotAllowed",
    mentions: "PATCH",
    allow: "GET, PUT",
  },
  {
    name: "unknown method on /health",
    req: { method: "POST", path: "/health" },
    status: 405,
    error: "MethodNotAllowed",
    mentions: "POST",
    allow: "GET",
  },
  {
    name: "unknown method on /fill",
    req: { method: "GET", path: "/fill?cust=1" },
    status: 405,
    error: "MethodNotAllowed",
    mentions: "GET",
    allow: "POST",
  },
];

/** A V8 stack frame as it would appear if a stack leaked into a body. */
const STACK_FRAME = /\bat\s+\S+\s+\(|\bat\s+(?:\/|file:|node:)|\.ts:\d+:\d+/;

describe("bad input on every route", function () {
  const local = useDynamoLocal();
  let tables: Record<TableKey, string>;
  let app: ApiHandler;
  let baseline: Record<TableKey, Item[]>;

  before(async () => {
    const { client, endpoint } = local.instance();
    tables = await createTables(client, "bad-input");
    // Real items the cases point at, so a 400 is about the input and not a missing id.
    await putItems(client, tables.customers, [{ CustomerId: "c1" }, { CustomerId: "c2" }]);
    await putItems(client, tables.products, [{ ProductId: "p1", ProductStatus: "IN_STOCK" }]);
    await putItems(client, tables.kv, [
      { Key: "k1", Value: "1", UpdatedAt: "2025-01-01T00:00:00.000Z" },
    ]);
    app = createApp(testDeps({ endpoint, tables, region: "eu-west-1" }));
    baseline = await snapshot(client, tables);
  });

  afterEach(async () => {
    expect(await snapshot(local.instance().client, tables), "tables changed").to.deep.equal(
      baseline,
    );
  });

  for (const c of CASES) {
    it(`${c.name}: ${c.status} ${c.error}`, async () => {
      const res = parse(await app(apiEvent(c.req)));
      expect(res.status, res.raw).to.equal(c.status);
      expect(res.body).to.have.all.keys("error", "message");
      expect(res.body.error).to.equal(c.error);
      expect(res.body.message).to.be.a("string").and.include(c.mentions);
      expect(res.raw).not.to.match(STACK_FRAME);
      expect(res.headers["content-type"]).to.equal("application/json");
      expect(res.headers["x-served-by-region"]).to.equal("eu-west-1");
      if (c.allow !== undefined) expect(res.headers.allow).to.equal(c.allow);
    });
  }

  it("a cursor this API issued is accepted (the cursor cases above fail on shape, not origin)", async () => {
    const res = parse(
      await app(
        apiEvent({ method: "GET", path: `/products?cursor=${encodeCursor({ ProductId: "p0" })}` }),
      ),
    );
    expect(res.status).to.equal(200);
  });
});
