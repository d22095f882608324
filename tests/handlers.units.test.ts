/**
 * Pure parts of the functions, without a database: planners and parsers (with fast-check
 * properties), error mapping, configuration, and the batch writer's retry against a mocked
 * client.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import fc from "fast-check";
import { createApp, createDispatcher, makeHandlers } from "../functions/app";
import { DynamoBatchWriter, backoffMs, BATCH_BASE_BACKOFF_MS } from "../functions/data/batch";
import { isTransient } from "../functions/data/errors";
import { DomainError, type ErrorCode } from "../functions/domain/errors";
import {
  BATCH_WRITE_MAX_ITEMS,
  FILL_MAX_PER_KIND,
  fillWrites,
  planBatches,
  planFill,
  type PutRequest,
} from "../functions/domain/fill";
import { summarize } from "../functions/domain/health";
import { toKvEntry, toKvItem } from "../functions/domain/kv";
import type { Clock } from "../functions/domain/model";
import { decodeCursor, encodeCursor } from "../functions/domain/products";
import { ID_MAX_LENGTH, parseIntParam } from "../functions/domain/validation";
import { ERROR_STATUS, toHttp } from "../functions/http";
import { findRoute } from "../functions/request";
import { FUNCTION_NAMES, ROUTES } from "../functions/routes";
import { makeKvHandler } from "../functions/handlers/kv";
import { depsFromEnv, lambdaHandler, requireTables } from "../functions/runtime";
import { TABLES, tableSpec } from "../functions/tables";
import { apiEvent, parse } from "./support/events";

const silent = new Logger({ logLevel: "SILENT" });

/** A deterministic clock: ids count up, time stands still. */
function fakeClock(region = "us-east-1"): Clock {
  let n = 0;
  return { region, now: () => new Date("2025-06-01T12:00:00.000Z"), newId: () => `id-${++n}` };
}

const idArb = fc
  .stringMatching(/^[A-Za-z0-9._:-]+$/, { maxLength: ID_MAX_LENGTH })
  .filter((s) => s.length > 0);

describe("fill planner", () => {
  it("splits any list into consecutive batches of at most 25 covering each item once", () => {
    fc.assert(
      fc.property(fc.nat({ max: 4 * FILL_MAX_PER_KIND }), (n) => {
        const items = Array.from({ length: n }, (_, i) => i);
        const batches = planBatches(items);
        expect(batches.flat()).to.deep.equal(items);
        expect(batches).to.have.length(Math.ceil(n / BATCH_WRITE_MAX_ITEMS));
        for (const batch of batches) expect(batch.length).to.be.within(1, BATCH_WRITE_MAX_ITEMS);
      }),
    );
  });

  it("plans coherent items for any counts: requested kinds, one sold product per order, known buyers", () => {
    const count = fc.nat({ max: 120 });
    fc.assert(
      fc.property(count, count, count, (cust, product, order) => {
        const plan = planFill({ cust, product, order }, fakeClock());
        expect(plan.customers).to.have.length(cust > 0 ? cust : order > 0 ? 1 : 0);
        expect(plan.products).to.have.length(product);
        expect(plan.products.every((p) => p.ProductStatus === "IN_STOCK")).to.equal(true);
        expect(plan.soldProducts.every((p) => p.ProductStatus === "SOLD")).to.equal(true);
        expect(plan.orders.map((o) => o.ProductId)).to.deep.equal(
          plan.soldProducts.map((p) => p.ProductId),
        );
        expect(plan.soldProducts.map((p) => p.SoldToOrderId)).to.deep.equal(
          plan.orders.map((o) => o.OrderId),
        );
        const buyers = new Set(plan.customers.map((c) => c.CustomerId));
        for (const o of plan.orders) expect(buyers.has(o.CustomerId)).to.equal(true);

        const writes = fillWrites(plan);
        const keyOf = (w: PutRequest): string => `${w.table}/${Object.values(w.item)[0] as string}`;
        expect(new Set(writes.map(keyOf)).size, "each item written once").to.equal(writes.length);
        const firstOrder = writes.findIndex((w) => w.table === "orders");
        if (firstOrder >= 0)
          expect(writes.slice(firstOrder).every((w) => w.table === "orders")).to.equal(true);
      }),
    );
  });
});

describe("products cursor", () => {
  it("decodes what it encodes, for any valid product id", () => {
    fc.assert(
      fc.property(idArb, (id) => {
        expect(decodeCursor(encodeCursor({ ProductId: id }))).to.deep.equal({ ProductId: id });
      }),
    );
  });

  it("rejects anything else with a 400 naming cursor, never another error", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (raw) => {
        try {
          const key = decodeCursor(raw);
          expect(encodeCursor(key)).to.equal(raw); // only our own cursors get through
        } catch (err) {
          expect(err).to.be.instanceOf(DomainError);
          expect((err as DomainError).code).to.equal("BadRequest");
          expect((err as DomainError).message).to.match(/^cursor /);
        }
      }),
    );
  });
});

describe("integer query parameters", () => {
  it("accept every in-range integer written plainly and reject out-of-range ones", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5000, max: 5000 }), (n) => {
        const parse = () => parseIntParam("cust", String(n), 0, FILL_MAX_PER_KIND);
        if (n >= 0 && n <= FILL_MAX_PER_KIND) expect(parse()).to.equal(n);
        else expect(parse).to.throw(DomainError, /^cust must be an integer from 0 to 1000/);
      }),
    );
  });
});

describe("kv entries", () => {
  it("round-trip any JSON value and hide expired entries", () => {
    const now = new Date("2025-06-01T12:00:00.000Z");
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 3 }),
        fc.option(fc.integer({ min: 1, max: 86400 })),
        (value, ttl) => {
          const item = toKvItem("k", value, ttl ?? undefined, now);
          // JSON text is what round-trips: -0 becomes 0, as in any JSON API.
          expect(toKvEntry(item, now)?.value).to.deep.equal(JSON.parse(JSON.stringify(value)));
          const later = new Date(now.getTime() + (ttl ?? 0) * 1000);
          expect(toKvEntry(item, later) === undefined).to.equal(ttl !== null);
        },
      ),
    );
  });
});

describe("table specs", () => {
  it("name the key attributes the domain items use", () => {
    expect(TABLES.map((t) => [t.key, t.hashKey])).to.deep.equal([
      ["customers", "CustomerId"],
      ["products", "ProductId"],
      ["orders", "OrderId"],
      ["kv", "Key"],
    ]);
    expect(tableSpec("kv").ttlAttribute).to.equal("ExpiresAt");
  });
});

describe("error mapping", () => {
  it("every error code has a 4xx or 5xx status", () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      expect(status, code).to.be.within(400, 599);
    }
  });

  it("an unexpected error is a generic 500 with no details", () => {
    const res = parse(
      toHttp(new TypeError("secret internals at /var/task/index.js:1:2"), {
        region: "r",
        logger: silent,
      }),
    );
    expect(res.status).to.equal(500);
    expect(res.body).to.deep.equal({ error: "InternalError", message: "internal error" });
    expect(res.headers["x-served-by-region"]).to.equal("r");
  });

  it("a domain error keeps its code and message", () => {
    const codes: [ErrorCode, number][] = [
      ["CustomerNotFound", 404],
      ["ProductSoldOut", 409],
      ["OrderConflict", 409],
      ["ServiceUnavailable", 503],
    ];
    for (const [code, status] of codes) {
      const res = parse(toHttp(new DomainError(code, "why"), { region: "r", logger: silent }));
      expect([res.status, res.body]).to.deep.equal([status, { error: code, message: "why" }]);
    }
  });

  it("classifies DynamoDB failures as transient only when a retry can help", () => {
    const transient = [
      { name: "ProvisionedThroughputExceededException" },
      { name: "ThrottlingException" },
      { name: "RequestLimitExceeded" },
      { name: "InternalServerError" },
      { name: "TimeoutError" },
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      { name: "Whatever", $metadata: { httpStatusCode: 503 } },
    ];
    const permanent = [
      { name: "ConditionalCheckFailedException", $fault: "client" },
      { name: "ResourceNotFoundException", $fault: "client" },
      { name: "ValidationException", $metadata: { httpStatusCode: 400 } },
      new TypeError("bug"),
      "a string",
    ];
    for (const e of transient) expect(isTransient(e), JSON.stringify(e)).to.equal(true);
    for (const e of permanent) expect(isTransient(e), JSON.stringify(e)).to.equal(false);
  });

  it("an unhealthy summary names every failing table and keeps the checks", () => {
    const checks = [
      { table: "customers" as const, ok: true, ms: 3 },
      { table: "orders" as const, ok: false, ms: 2000, reason: "timed out" as const },
      { table: "kv" as const, ok: false, ms: 4, reason: "table not found" as const },
    ];
    try {
      summarize("eu-west-1", checks);
      expect.fail("should be unhealthy");
    } catch (err) {
      expect(err).to.be.instanceOf(DomainError);
      const e = err as DomainError;
      expect([e.code, e.message]).to.deep.equal([
        "Unhealthy",
        "unhealthy in eu-west-1: orders timed out; kv table not found",
      ]);
      expect(e.extra).to.deep.equal({ checks });
    }
  });
});

describe("routing", () => {
  it("finds every route of routes.ts by its own path, with its parameters", () => {
    for (const route of ROUTES) {
      const concrete = route.path.replace(/\{(\w+)\}/g, (_, name: string) => `${name}-1`);
      const found = findRoute(route.method, concrete);
      expect(found.route).to.equal(route);
      for (const name of Object.keys(found.params))
        expect(found.params[name]).to.equal(`${name}-1`);
    }
  });

  it("the dispatcher fills resource and pathParameters as API Gateway does", async () => {
    const seen: unknown[] = [];
    const spy = async (event: { resource: string; pathParameters: unknown }) => {
      seen.push([event.resource, event.pathParameters]);
      return { statusCode: 204, body: "" };
    };
    const handlers = Object.fromEntries(
      FUNCTION_NAMES.map((fn) => [fn, spy]),
    ) as unknown as Parameters<typeof createDispatcher>[0];
    const dispatch = createDispatcher(handlers, { region: "r", logger: silent });
    await dispatch(apiEvent({ method: "GET", path: "/orders/o%2D1" }));
    await dispatch(apiEvent({ method: "GET", path: "/orders?orderId=1&productId=2" }));
    expect(seen).to.deep.equal([
      ["/orders/{orderId}", { orderId: "o-1" }],
      ["/orders", null],
    ]);
  });
});

describe("configuration", () => {
  const env = {
    AWS_REGION: "us-east-1",
    TABLE_CUSTOMERS: "t-customers",
    TABLE_PRODUCTS: "t-products",
    TABLE_ORDERS: "t-orders",
    TABLE_KV: "t-kv",
    DYNAMODB_ENDPOINT: "http://127.0.0.1:1",
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
  };

  it("reads the region, table names and health bound from the environment", () => {
    const deps = depsFromEnv({ ...env, HEALTH_TIMEOUT_MS: "750" });
    expect(deps.region).to.equal("us-east-1");
    expect(deps.tables).to.deep.equal({
      customers: "t-customers",
      products: "t-products",
      orders: "t-orders",
      kv: "t-kv",
    });
    expect(deps.healthTimeoutMs).to.equal(750);
    expect(Object.keys(makeHandlers(deps)).sort()).to.deep.equal([...FUNCTION_NAMES].sort());
  });

  it("fails at startup naming the missing variable", () => {
    expect(() => depsFromEnv({ ...env, AWS_REGION: undefined })).to.throw("AWS_REGION is not set");
    expect(() => depsFromEnv({ ...env, TABLE_ORDERS: undefined }, "createOrder")).to.throw(
      "createOrder needs the orders table: set TABLE_ORDERS",
    );
    expect(() => makeHandlers(depsFromEnv({ ...env, TABLE_KV: "" }))).to.throw("set TABLE_KV");
    expect(() => depsFromEnv({ ...env, HEALTH_TIMEOUT_MS: "soon" })).to.throw("HEALTH_TIMEOUT_MS");
    expect(() => depsFromEnv({ ...env, DYNAMODB_ENDPOINT: "not a url" })).to.throw(
      "DYNAMODB_ENDPOINT",
    );
  });

  it("adds CORS headers to every response only when CORS_ALLOW_ORIGIN is set", async () => {
    const origin = "https://ops.example.com";
    const withCors = createApp(depsFromEnv({ ...env, CORS_ALLOW_ORIGIN: origin }));
    const without = createApp(depsFromEnv(env));
    const bad = apiEvent({ method: "GET", path: "/products?limit=0" });
    const unknown = apiEvent({ method: "GET", path: "/nope" });
    for (const event of [bad, unknown]) {
      const on = parse(await withCors(event));
      expect(on.headers["access-control-allow-origin"]).to.equal(origin);
      expect(on.headers["access-control-expose-headers"]).to.include("x-served-by-region");
      const off = parse(await without(event));
      expect(Object.keys(off.headers).filter((h) => h.startsWith("access-control-"))).to.deep.equal(
        [],
      );
    }
  });

  it("on Lambda, a missing table fails the cold start; elsewhere, importing builds nothing", async () => {
    const saved = { ...process.env };
    try {
      process.env.AWS_REGION = "us-east-1";
      delete process.env.TABLE_KV;
      delete process.env.AWS_LAMBDA_FUNCTION_NAME;
      const lazy = lambdaHandler("kv", makeKvHandler);
      try {
        await lazy(apiEvent({ method: "GET", path: "/kv/k1" }));
        expect.fail("built without TABLE_KV");
      } catch (err) {
        expect(String(err)).to.include("set TABLE_KV");
      }
      process.env.AWS_LAMBDA_FUNCTION_NAME = "kv-fn";
      expect(() => lambdaHandler("kv", makeKvHandler)).to.throw(
        "kv needs the kv table: set TABLE_KV",
      );
    } finally {
      process.env = saved;
    }
  });

  it("a function only needs the tables routes.ts grants it", () => {
    const onlyKv = depsFromEnv(
      { AWS_REGION: "us-east-1", TABLE_KV: "t-kv", DYNAMODB_ENDPOINT: "http://127.0.0.1:1" },
      "kv",
    );
    expect(requireTables(onlyKv, "kv")).to.deep.equal({ kv: "t-kv" });
    expect(() => requireTables(onlyKv, "kv", ["orders"])).to.throw("routes.ts grants it no access");
  });
});

describe("batch writer", () => {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "us-east-1" }));
  const tables = { customers: "t-customers", products: "t-products", orders: "t-orders" };
  const writes = (n: number): PutRequest[] =>
    Array.from({ length: n }, (_, i) => ({
      table: "customers" as const,
      item: { CustomerId: `c${i}`, CreatedAt: "2025-01-01T00:00:00.000Z" },
    }));
  let ddb: ReturnType<typeof mockClient>;

  beforeEach(() => {
    ddb = mockClient(DynamoDBDocumentClient);
  });
  afterEach(() => ddb.restore());

  it("resends exactly the unprocessed items after a jittered back-off", async () => {
    const leftOver = {
      "t-customers": [
        { PutRequest: { Item: { CustomerId: "c3", CreatedAt: "2025-01-01T00:00:00.000Z" } } },
      ],
    };
    ddb
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: leftOver })
      .resolves({ UnprocessedItems: {} });
    const slept: number[] = [];
    const writer = new DynamoBatchWriter(doc, tables, {
      sleep: async (ms) => void slept.push(ms),
      random: () => 0.5,
    });

    await writer.putAll(writes(30));

    const calls = ddb.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems);
    expect(calls.map((c) => c?.["t-customers"]?.length)).to.deep.equal([25, 1, 5]);
    expect(calls[1]).to.deep.equal(leftOver);
    expect(slept).to.deep.equal([BATCH_BASE_BACKOFF_MS / 2]);
  });

  it("gives up with a 503 after the bounded number of attempts", async () => {
    const stuck = { "t-customers": [{ PutRequest: { Item: { CustomerId: "c0" } } }] };
    ddb.on(BatchWriteCommand).resolves({ UnprocessedItems: stuck });
    const writer = new DynamoBatchWriter(doc, tables, {
      maxAttempts: 4,
      sleep: async () => undefined,
    });
    try {
      await writer.putAll(writes(1));
      expect.fail("should give up");
    } catch (err) {
      expect(err).to.be.instanceOf(DomainError);
      expect((err as DomainError).code).to.equal("ServiceUnavailable");
    }
    expect(ddb.commandCalls(BatchWriteCommand)).to.have.length(4);
  });

  it("backs off within a doubling, capped ceiling", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 30 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (attempt, r) => {
          const ms = backoffMs(attempt, () => r);
          expect(ms).to.be.within(0, Math.min(2000, BATCH_BASE_BACKOFF_MS * 2 ** (attempt - 2)));
        },
      ),
    );
  });
});
