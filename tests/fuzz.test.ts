/**
 * One fuzz suite, every route, both runtimes: generated bad input (tests/support/fuzz.ts) sent to
 * the handlers as API Gateway proxy events (DynamoDB Local, one JVM) and to a running sandbox over
 * HTTP (each region's API and the global endpoint). Every answer is below 500, an error is
 * exactly `{ error, message }`, no body shows a stack or a source path, and every table of every
 * region holds, item for item, what it held before.
 *
 * Run counts are bounded (RUNS below) so the suite stays well under a minute on a loaded 2-core
 * machine; the total number of requests sent is printed at the end.
 */
import { expect } from "chai";
import fc from "fast-check";
import { createApp } from "../functions/app";
import { ROUTES } from "../functions/routes";
import type { ApiHandler } from "../functions/runtime";
import { TABLE_KEYS, type TableKey } from "../functions/tables";
import { DEFAULT_REGIONS, type Sandbox } from "../local/sandbox";
import { createTables, useDynamoLocal } from "./support/dynamo-local";
import { testDeps } from "./support/deps";
import { leaksInternals, parse } from "./support/events";
import {
  checkAnswer,
  FUZZ_KEYS,
  fuzzRoutes,
  knownBad,
  sendWire,
  wireEvent,
  type Seed,
  type WireAnswer,
  type WireRequest,
} from "./support/fuzz";
import { eventually, http, useSandbox } from "./support/sandbox";
import { putItems, snapshot, type Item } from "./support/tables";

/** Generated requests per route and runtime. */
const RUNS = { handlers: 40, sandbox: 15 } as const;

/** Routes that write: any answer below 400 would be a write. */
const WRITES = new Set(
  ROUTES.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`),
);

/** Requests sent, by runtime; printed at the end. */
const sent = { handlers: 0, sandbox: 0 };

/**
 * Runs every route's property and the known requests through `send`; `pick` chooses among
 * `targets` endpoints (generated for the properties, each in turn for the known requests).
 */
function fuzzEveryRoute(
  seed: () => Seed,
  runs: number,
  targets: number,
  send: (req: WireRequest, pick: number) => Promise<WireAnswer>,
): void {
  for (const key of FUZZ_KEYS) {
    it(`${key}: no 5xx, errors are { error, message }, nothing leaks`, async () => {
      // Built per test: the seed exists only once the suite's `before` has run.
      const arb = fuzzRoutes(seed())[key];
      await fc.assert(
        fc.asyncProperty(arb, fc.nat(), async (req, pick) =>
          checkAnswer(req, await send(req, pick), WRITES.has(key)),
        ),
        { numRuns: runs },
      );
    });
  }
  it("the requests issue 8 found get their 4xx (or are served as ordinary data)", async () => {
    for (const known of knownBad(seed())) {
      for (let pick = 0; pick < targets; pick++) {
        const res = await send(known.req, pick);
        const what = `${known.req.method} ${known.req.target.slice(0, 80)} (${pick}): ${res.body}`;
        checkAnswer(known.req, res, false);
        expect(res.status, what).to.equal(known.status);
        if (known.mentions !== undefined) expect(res.body, what).to.include(known.mentions);
      }
    }
  });
}

describe("fuzz: generated bad input on every route", function () {
  after(() => {
    const total = sent.handlers + sent.sandbox;
    console.log(
      `      fuzz: ${total} requests sent (${sent.handlers} to the handlers, ` +
        `${sent.sandbox} over HTTP to the sandbox)`,
    );
  });

  it("has a generator for every route of routes.ts", () => {
    for (const r of ROUTES) expect(FUZZ_KEYS).to.include(`${r.method} ${r.path}`);
  });

  it("the leak check catches a real stack trace and a source path", () => {
    expect(leaksInternals(JSON.stringify({ message: new Error("x").stack }))).to.equal(true);
    expect(leaksInternals(JSON.stringify({ message: `${process.cwd()}/functions/x` }))).to.equal(
      true,
    );
    expect(leaksInternals(JSON.stringify({ error: "BadRequest", message: "at most 32" }))).to.equal(
      false,
    );
  });

  it("the answer check fails a 5xx, a write answered 2xx and an error of another shape", () => {
    const req: WireRequest = {
      method: "PUT",
      target: "/kv/x",
      headers: [],
      body: Buffer.from("{"),
      why: "check of the check",
    };
    const answer = (status: number, body: unknown): WireAnswer => ({
      status,
      headers: { "x-served-by-region": "us-east-1" },
      body: JSON.stringify(body),
    });
    const ok = answer(400, { error: "BadRequest", message: "body: is not valid JSON" });
    expect(() => checkAnswer(req, ok, true)).to.not.throw();
    expect(() => checkAnswer(req, answer(500, { error: "x", message: "y" }), false)).to.throw(
      /500/,
    );
    expect(() => checkAnswer(req, answer(200, { key: "x" }), true)).to.throw(/200/);
    expect(() => checkAnswer(req, answer(400, { message: "no error code" }), true)).to.throw(
      /error/,
    );
    expect(() => checkAnswer(req, { ...ok, headers: {} }, true)).to.throw(
      /x-served-by-region|a string/,
    );
  });

  describe("against the handlers (proxy events, DynamoDB Local)", function () {
    this.timeout(60_000);
    const local = useDynamoLocal();
    const seed: Seed = {
      customer: "seed-customer-0000000000001",
      inStock: "seed-product-00000000000001",
      sold: "seed-product-00000000000002",
      soldBy: "seed-order-0000000000000001",
      key: "seed-key-000000000000000001",
    };
    let tables: Record<TableKey, string>;
    let app: ApiHandler;
    let baseline: Record<TableKey, Item[]>;

    before(async () => {
      const { client, endpoint } = local.instance();
      tables = await createTables(client, "fuzz");
      const at = "2025-01-01T00:00:00.000Z";
      await putItems(client, tables.customers, [{ CustomerId: seed.customer, CreatedAt: at }]);
      await putItems(client, tables.products, [
        { ProductId: seed.inStock, ProductStatus: "IN_STOCK", CreatedAt: at },
        { ProductId: seed.sold, ProductStatus: "SOLD", CreatedAt: at },
      ]);
      await putItems(client, tables.orders, [
        {
          OrderId: seed.soldBy,
          ProductId: seed.sold,
          CustomerId: seed.customer,
          OrderStatus: "CONFIRMED",
          OrderTotal: 100,
          CreatedAt: at,
          CreatedInRegion: "eu-west-1",
        },
      ]);
      await putItems(client, tables.kv, [{ Key: seed.key, Value: "1", UpdatedAt: at }]);
      app = createApp(testDeps({ endpoint, tables, region: "eu-west-1", maxAttempts: 1 }));
      baseline = await snapshot(client, tables);
    });

    fuzzEveryRoute(
      () => seed,
      RUNS.handlers,
      1,
      async (req) => {
        sent.handlers++;
        const res = parse(await app(wireEvent(req)));
        return { status: res.status, headers: res.headers, body: res.raw };
      },
    );

    it("wrote nothing: every table holds, item for item, what it held before", async () => {
      expect(await snapshot(local.instance().client, tables)).to.deep.equal(baseline);
    });
  });

  describe("against a running sandbox (regional APIs and the global endpoint, over HTTP)", function () {
    this.timeout(60_000);
    const sandbox = useSandbox();
    let seed: Seed;
    let targets: string[];
    let baseline: Record<string, Record<string, unknown>[]>;

    before(async function () {
      const sb = sandbox.sandbox();
      const first = sb.urls.regions[sb.regions[0] as string] as string;
      seed = await seedSandbox(first);
      await eventually("the seed data replicated", 30_000, async () => {
        const c = await sb.convergence();
        return c.backlog === 0 && c.identical ? true : undefined;
      });
      targets = [...Object.values(sb.urls.regions), sb.urls.global];
      expect(targets).to.have.length(DEFAULT_REGIONS.length + 1);
      baseline = await everyTable(sb);
    });

    fuzzEveryRoute(
      () => seed,
      RUNS.sandbox,
      DEFAULT_REGIONS.length + 1,
      async (req, pick) => {
        sent.sandbox++;
        return sendWire(targets[pick % targets.length] as string, req);
      },
    );

    it("wrote nothing: every table of every region holds, item for item, what it held before", async () => {
      const sb = sandbox.sandbox();
      const c = await sb.convergence();
      expect(c.backlog, "changes in flight").to.equal(0);
      expect(await everyTable(sb)).to.deep.equal(baseline);
    });

    it("every region and the global endpoint still serve", async () => {
      for (const url of targets) expect((await http("GET", `${url}/health`)).status).to.equal(200);
    });
  });
});

/** Creates the seed through the API of one region; returns its ids. */
async function seedSandbox(regionUrl: string): Promise<Seed> {
  const filled = await http("POST", `${regionUrl}/fill?cust=1&product=2&order=0`);
  expect(filled.status, JSON.stringify(filled.body)).to.equal(201);
  const { customers, products } = filled.body as { customers: string[]; products: string[] };
  const [customer, inStock, sold] = [customers[0], products[0], products[1]];
  if (!customer || !inStock || !sold) throw new Error(`fill returned too few ids`);
  const soldBy = "seed-order-0000000000000001";
  const order = await http(
    "POST",
    `${regionUrl}/orders?customerId=${customer}&productId=${sold}&orderId=${soldBy}`,
  );
  expect(order.status, JSON.stringify(order.body)).to.equal(201);
  const key = "seed-key-000000000000000001";
  const kv = await http("PUT", `${regionUrl}/kv/${key}`, { value: { seeded: true } });
  expect(kv.status, JSON.stringify(kv.body)).to.equal(200);
  return { customer, inStock, sold, soldBy, key };
}

/** Every item of every table in every region, keyed `region/table`, in a stable order. */
async function everyTable(sb: Sandbox): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const region of sb.regions) {
    for (const table of TABLE_KEYS) {
      const items = await sb.scan(region, table);
      out[`${region}/${table}`] = items.sort((a, b) =>
        JSON.stringify(a).localeCompare(JSON.stringify(b)),
      );
    }
  }
  return out;
}
