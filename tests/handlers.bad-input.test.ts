/**
 * Bad input on every route, table-driven, through the dispatcher against DynamoDB Local: each
 * case gets its 4xx, a `{ error, message }` body naming the field and showing no stack, and
 * leaves every table exactly as it was.
 */
import { expect } from "chai";
import fc from "fast-check";
import { DeleteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createApp } from "../functions/app";
import {
  LITERAL_PATH_RULE,
  MAX_BODY_BYTES,
  MAX_JSON_DEPTH,
  checkLiteralPath,
  jsonDepthExceeds,
} from "../functions/request";
import type { ApiHandler } from "../functions/runtime";
import type { TableKey } from "../functions/tables";
import { encodeCursor } from "../functions/domain/products";
import { createTables, useDynamoLocal } from "./support/dynamo-local";
import { testDeps } from "./support/deps";
import { apiEvent, leaksInternals, parse, type RequestSpec } from "./support/events";
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
const deep = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);
const kvPut = (path: string, body: unknown = { value: 1 }): RequestSpec => ({
  method: "PUT",
  path,
  body,
});
/** Names that are special on a plain object, as own keys (an object literal would not make them). */
const protoBody = (name: string, extra: Record<string, unknown>): string =>
  JSON.stringify(Object.fromEntries([...Object.entries(extra), [name, { polluted: true }]]));

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
  // Deep JSON: a 400 naming the limit, before any recursive code sees the value.
  {
    name: "kv put: value nested 5,000 levels deep",
    req: kvPut("/kv/k1", `{"value":${deep(5_000)}}`),
    status: 400,
    error: "BadRequest",
    mentions: `at most ${MAX_JSON_DEPTH} levels`,
  },
  {
    name: "kv put: value one level too deep",
    req: kvPut("/kv/k1", `{"value":${deep(MAX_JSON_DEPTH)}}`),
    status: 400,
    error: "BadRequest",
    mentions: `more than ${MAX_JSON_DEPTH} levels`,
  },
  {
    name: "order: body nested too deep",
    req: order({}, `{"customerId":${deep(100)}}`),
    status: 400,
    error: "BadRequest",
    mentions: `${MAX_JSON_DEPTH} levels`,
  },
  // Paths are taken literally: what a normaliser would alias is refused.
  ...[
    "/kv//k1",
    "/kv/k1/",
    "/kv/./k1",
    "/kv/../kv/k1",
    "/kv/%2e%2e/kv/k1",
    "/kv/k1/.",
    "//kv/k1",
  ].map((path): BadCase => ({
    name: `kv put: aliased path ${path}`,
    req: kvPut(path),
    status: 400,
    error: "BadRequest",
    mentions: LITERAL_PATH_RULE,
  })),
  {
    name: "kv get: aliased path",
    req: { method: "GET", path: "/kv/./k1" },
    status: 400,
    error: "BadRequest",
    mentions: LITERAL_PATH_RULE,
  },
  {
    name: "read by path: trailing slash",
    req: { method: "GET", path: "/orders/o1/" },
    status: 400,
    error: "BadRequest",
    mentions: "ends with a slash",
  },
  {
    name: "kv put: key '..' percent-encoded",
    req: kvPut("/kv/%2E%2E"),
    status: 400,
    error: "BadRequest",
    mentions: "path has a '.' or '..' segment",
  },
  {
    name: "kv put: key with an encoded slash",
    req: kvPut("/kv/a%2Fk1"),
    status: 400,
    error: "BadRequest",
    mentions: "key may only contain",
  },
  // Prototype names: ordinary names, refused where unknown.
  ...["__proto__", "constructor", "prototype"].flatMap((name): BadCase[] => [
    {
      name: `products: query parameter ${name}`,
      req: { method: "GET", path: `/products?${name}=1` },
      status: 400,
      error: "BadRequest",
      mentions: `${name} is not a known query parameter`,
    },
    {
      name: `order: query parameter ${name} given twice`,
      req: { method: "POST", path: `/orders?${name}=1&${name}=2&customerId=c1&productId=p1` },
      status: 400,
      error: "BadRequest",
      mentions: `${name} is given more than once`,
    },
    {
      name: `order: body field ${name}`,
      req: order({}, protoBody(name, ok)),
      status: 400,
      error: "BadRequest",
      mentions: `unknown field '${name}'`,
    },
    {
      name: `kv put: body field ${name}`,
      req: kvPut("/kv/k1", protoBody(name, { value: 1 })),
      status: 400,
      error: "BadRequest",
      mentions: `unknown field '${name}'`,
    },
    {
      name: `kv put: ${name} alone, no value`,
      req: kvPut("/kv/k1", protoBody(name, {})),
      status: 400,
      error: "BadRequest",
      mentions: "value is required",
    },
  ]),
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
      expect(leaksInternals(res.raw), res.raw).to.equal(false);
      expect(res.headers["content-type"]).to.equal("application/json");
      expect(res.headers["x-served-by-region"]).to.equal("eu-west-1");
      if (c.allow !== undefined) expect(res.headers.allow).to.equal(c.allow);
    });
  }

  it("prototype names in headers and path segments are ordinary data", async () => {
    const headers = Object.fromEntries(["__proto__", "constructor"].map((h) => [h, "1"]));
    const health = parse(await app(apiEvent({ method: "GET", path: "/health", headers })));
    expect(health.status, health.raw).to.equal(200);
    for (const key of ["__proto__", "constructor", "prototype"]) {
      const res = parse(await app(apiEvent({ method: "GET", path: `/kv/${key}` })));
      expect([res.status, res.body], res.raw).to.deep.equal([
        404,
        { error: "KeyNotFound", message: `key ${key} not found` },
      ]);
    }
  });

  it("a value holding prototype names round-trips as data and pollutes nothing", async () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}');
    const put = parse(await app(apiEvent(kvPut("/kv/proto-data", JSON.stringify({ value })))));
    const got = parse(await app(apiEvent({ method: "GET", path: "/kv/proto-data" })));
    // Restore the baseline before asserting, so afterEach checks only what the assertions allow.
    const doc = DynamoDBDocumentClient.from(local.instance().client);
    await doc.send(new DeleteCommand({ TableName: tables.kv, Key: { Key: "proto-data" } }));
    expect(put.status, put.raw).to.equal(200);
    expect(got.status, got.raw).to.equal(200);
    expect(JSON.stringify(got.body.value)).to.equal(JSON.stringify(value));
    expect(Object.hasOwn(got.body.value as object, "__proto__")).to.equal(true);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it("a cursor this API issued is accepted (the cursor cases above fail on shape, not origin)", async () => {
    const res = parse(
      await app(
        apiEvent({ method: "GET", path: `/products?cursor=${encodeCursor({ ProductId: "p0" })}` }),
      ),
    );
    expect(res.status).to.equal(200);
  });
});

describe("request hygiene rules", () => {
  it("a literal path passes; every alias of another path is refused naming the rule", () => {
    for (const ok of ["/", "/kv/k1", "/orders/o-1", "/kv/a.b", "/kv/...", "/kv/%2e%2e%2e"]) {
      expect(() => checkLiteralPath(ok), ok).not.to.throw();
    }
    for (const bad of [
      "/kv//x",
      "/kv/x/",
      "/kv/./x",
      "/kv/../x",
      "/kv/%2E/x",
      "/kv/x/%2e%2E",
      "kv/x",
      "",
    ]) {
      expect(() => checkLiteralPath(bad), bad).to.throw(LITERAL_PATH_RULE);
    }
  });

  it("the depth scan agrees with the nesting of any JSON value", () => {
    const depthOf = (v: unknown): number =>
      typeof v === "object" && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 8 }), (v, max) => {
        const text = JSON.stringify(v);
        expect(jsonDepthExceeds(text, max), text).to.equal(depthOf(v) > max);
      }),
    );
  });

  it("brackets inside strings, escaped quotes included, do not count", () => {
    expect(jsonDepthExceeds(JSON.stringify({ a: '[[[[\\"{{{{' }), 1)).to.equal(false);
    expect(jsonDepthExceeds(JSON.stringify(["\\", ["x"]]), 1)).to.equal(true);
  });
});
