/**
 * `npm run repair` (tools/repair.ts) against DynamoDB Local: two "regions" are two table sets in
 * one engine, each described by a stack outputs file as `pulumi stack output --json` writes it.
 * The cases are built by writing what a sale that died after its claim leaves behind.
 */
import { expect } from "chai";
import { runRepair } from "../tools/repair";
import type { TableKey } from "../functions/tables";
import { createTables, useDynamoLocal } from "./support/dynamo-local";
import { testDeps } from "./support/deps";
import { putItems, scanAll, type Item } from "./support/tables";

const EAST = "us-east-1";
const WEST = "us-west-2";

function claim(productId: string, orderId: string, region: string): Item {
  return {
    ProductId: productId,
    ProductStatus: "SOLD",
    SoldToOrderId: orderId,
    SoldToCustomerId: "c1",
    SoldInRegion: region,
    SoldAt: "2026-11-30T00:00:00.000Z",
    SoldOrderTotal: 42,
  };
}

describe("npm run repair (tools/repair.ts), against DynamoDB Local", function () {
  const local = useDynamoLocal();
  const tables: Record<string, Record<TableKey, string>> = {};
  const files: Record<string, string> = {};
  let run = 0;
  let printed: string[];
  let clientsFor: string[];

  beforeEach(async () => {
    run++;
    printed = [];
    clientsFor = [];
    for (const region of [EAST, WEST]) {
      const t = await createTables(local.instance().client, `repair-${run}-${region}`);
      tables[region] = t;
      files[`${region}.json`] = JSON.stringify({ region, tableNames: t, url: "https://x" });
    }
    const east = tables[EAST] as Record<TableKey, string>;
    const west = tables[WEST] as Record<TableKey, string>;
    // East: p1 claimed by o1 whose order is missing; p2 sold to o2, which exists.
    await putItems(local.instance().client, east.products, [
      claim("p1", "o1", EAST),
      claim("p2", "o2", EAST),
      { ProductId: "p3", ProductStatus: "IN_STOCK" },
    ]);
    await putItems(local.instance().client, east.orders, [
      { OrderId: "o2", ProductId: "p2", CustomerId: "c1", OrderStatus: "CONFIRMED" },
    ]);
    // West: p4 claims o2, an order for another product (a race loser that died): release it.
    await putItems(local.instance().client, west.products, [claim("p4", "o2", WEST)]);
    await putItems(local.instance().client, west.orders, [
      { OrderId: "o2", ProductId: "p2", CustomerId: "c1", OrderStatus: "CONFIRMED" },
    ]);
  });

  const deps = {
    client: (region: string) => {
      clientsFor.push(region);
      return testDeps({ endpoint: local.instance().endpoint, tables: {}, region }).doc;
    },
    readFile: (file: string) => {
      const text = files[file];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${file}'`);
      return text;
    },
    print: (line: string) => printed.push(line),
  };

  const scan = (region: string, table: TableKey): Promise<Item[]> =>
    scanAll(local.instance().client, (tables[region] as Record<TableKey, string>)[table]);

  async function snapshot(): Promise<Item[][]> {
    const out: Item[][] = [];
    for (const r of [EAST, WEST])
      for (const t of ["products", "orders"] as const) out.push(await scan(r, t));
    return out;
  }

  it("--dry-run reports per region what it would write and release, and writes nothing", async () => {
    const before = await snapshot();
    const code = await runRepair(["--dry-run", `${EAST}.json`, `${WEST}.json`], deps);
    expect(code).to.equal(0);
    expect(printed).to.deep.equal([
      `${EAST}: 2 SOLD products checked; would write 1 orders, would release 0 claims`,
      `${WEST}: 1 SOLD products checked; would write 0 orders, would release 1 claims`,
    ]);
    expect(await snapshot()).to.deep.equal(before);
  });

  it("writes the missing order from its claim, releases the stray claim, and a rerun finds nothing", async () => {
    const code = await runRepair([`${EAST}.json`, `${WEST}.json`], deps);
    expect(code).to.equal(0);
    expect(clientsFor).to.deep.equal([EAST, WEST]);
    expect(printed).to.deep.equal([
      `${EAST}: 2 SOLD products checked; wrote 1 orders, released 0 claims`,
      `${WEST}: 1 SOLD products checked; wrote 0 orders, released 1 claims`,
    ]);
    const o1 = (await scan(EAST, "orders")).find((o) => o.OrderId === "o1");
    expect(o1).to.deep.equal({
      OrderId: "o1",
      ProductId: "p1",
      CustomerId: "c1",
      OrderStatus: "CONFIRMED",
      OrderTotal: 42,
      CreatedAt: "2026-11-30T00:00:00.000Z",
      CreatedInRegion: EAST,
    });
    expect(await scan(WEST, "products")).to.deep.equal([
      { ProductId: "p4", ProductStatus: "IN_STOCK" },
    ]);

    printed = [];
    expect(await runRepair([`${EAST}.json`, `${WEST}.json`], deps)).to.equal(0);
    expect(printed).to.deep.equal([
      `${EAST}: 2 SOLD products checked; wrote 0 orders, released 0 claims (nothing to repair)`,
      `${WEST}: 0 SOLD products checked; wrote 0 orders, released 0 claims (nothing to repair)`,
    ]);
  });

  it("a region that fails is reported and exits 1; the other regions are still repaired", async () => {
    files["broken.json"] = JSON.stringify({
      region: "eu-west-1",
      tableNames: { products: "no-such-table", orders: "no-such-table" },
    });
    const code = await runRepair(["broken.json", `${EAST}.json`], deps);
    expect(code).to.equal(1);
    expect(printed[0]).to.match(/^eu-west-1: repair failed: /);
    expect(printed[1]).to.equal(
      `${EAST}: 2 SOLD products checked; wrote 1 orders, released 0 claims`,
    );
    expect(printed[2]).to.equal("error: the repair failed in 1 of 2 regions");
  });

  const bad: [string, string[], Record<string, string>, RegExp][] = [
    ["no file", [], {}, /no stack output file given/],
    ["an unknown option", ["--force", "a.json"], {}, /unknown option --force/],
    ["an unreadable file", ["missing.json"], {}, /missing\.json: cannot read/],
    [
      "a file that is not JSON",
      ["a.json"],
      { "a.json": "Current stack outputs (2):" },
      /a\.json: not JSON/,
    ],
    [
      "outputs without tableNames",
      ["a.json"],
      { "a.json": JSON.stringify({ region: EAST }) },
      /a\.json: stack output tableNames: /,
    ],
    [
      "outputs without the orders table",
      ["a.json"],
      { "a.json": JSON.stringify({ region: EAST, tableNames: { products: "p" } }) },
      /a\.json: stack output tableNames\.orders: /,
    ],
    [
      "outputs without a region",
      ["a.json"],
      { "a.json": JSON.stringify({ tableNames: { products: "p", orders: "o" } }) },
      /a\.json: stack output region: /,
    ],
    [
      "one region twice",
      [`${EAST}.json`, "again.json"],
      {
        "again.json": JSON.stringify({ region: EAST, tableNames: { products: "p", orders: "o" } }),
      },
      /region us-east-1 given twice/,
    ],
  ];
  for (const [what, argv, extra, message] of bad) {
    it(`refuses ${what}: exit 1, a message naming it, no region touched`, async () => {
      Object.assign(files, extra);
      const before = await snapshot();
      expect(await runRepair(argv, deps)).to.equal(1);
      expect(printed).to.have.length(1);
      expect(printed[0]).to.match(/^error: /);
      expect(printed[0]).to.match(message);
      expect(clientsFor).to.deep.equal([]);
      expect(await snapshot()).to.deep.equal(before);
    });
  }
});
