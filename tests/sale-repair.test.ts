/**
 * The repair step where a user meets it, against a two-region sandbox: `POST /control/repair`,
 * a region whose database comes back, and the drill's verify (through the sandbox target). Each
 * case is built by writing what a sale that died between its claim and its order leaves behind:
 * a product SOLD to an order id that no orders table holds.
 */
import { expect } from "chai";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "../functions/runtime";
import { connectSandbox } from "../local/drill/sandbox-target";
import type { DrillTarget } from "../local/drill/target";
import { checkData, repairData } from "../local/drill/verify";
import { eventually, fill, http, useSandbox } from "./support/sandbox";

const EAST = "us-east-1";
const WEST = "us-west-2";
/** Bound on starting a region's database (a JVM) on a loaded machine. */
const START_TIMEOUT_MS = 120_000;

describe("the repair step in the sandbox and the drill (two regions, end to end)", function () {
  this.timeout(180_000);
  const lines: string[] = [];
  const { sandbox } = useSandbox({ log: (line) => lines.push(line) });
  const control = (path: string): string => `${sandbox().urls.control}${path}`;
  let pairs: { customers: string[]; products: string[] };
  let next = 0;
  let orderSeq = 0;

  before(async function () {
    this.timeout(30_000);
    pairs = await fill(sandbox().urls.regions[EAST] as string, 20);
    await sandbox().replicator.waitIdle(10_000);
  });

  afterEach(async function () {
    for (const r of [EAST, WEST]) await sandbox().startRegion(r);
  });

  /** Writes, in `region`, a claim on a fresh product naming an order nobody wrote. */
  async function claimWithoutOrder(
    region: string,
  ): Promise<{ productId: string; orderId: string }> {
    const i = next++;
    const productId = pairs.products[i] as string;
    const orderId = `repair-${++orderSeq}-${Date.now()}`;
    const doc = createDocumentClient({
      region,
      endpoint: sandbox().dynamoEndpoint(region),
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      await doc.send(
        new PutCommand({
          TableName: sandbox().tables.products,
          Item: {
            ProductId: productId,
            ProductStatus: "SOLD",
            SoldToOrderId: orderId,
            SoldToCustomerId: pairs.customers[i],
            SoldInRegion: region,
            SoldAt: new Date().toISOString(),
            SoldOrderTotal: 42,
          },
        }),
      );
    } finally {
      doc.destroy();
    }
    // Replicated to every region whose database runs (a poll of the stream may not have seen it).
    for (const r of [EAST, WEST].filter((n) => sandbox().regionStatus(n).database)) {
      await eventually(`the claim on ${productId} in ${r}`, 10_000, async () =>
        (await sandbox().scan(r, "products")).some((p) => p.SoldToOrderId === orderId)
          ? true
          : undefined,
      );
    }
    return { productId, orderId };
  }

  async function orderIn(region: string, orderId: string): Promise<Record<string, unknown>> {
    return eventually(`order ${orderId} in ${region}`, 10_000, async () =>
      (await sandbox().scan(region, "orders")).find((o) => o.OrderId === orderId),
    );
  }

  it("POST /control/repair writes the missing order, answers the counts per region, and a rerun writes none", async () => {
    const { productId, orderId } = await claimWithoutOrder(EAST);

    const dry = await http("POST", control("/repair"), { dryRun: true });
    expect(dry.status).to.equal(200);
    expect(dry.body.dryRun).to.equal(true);
    expect(dry.body.regions[EAST]).to.include({ ordersWritten: 1, claimsReleased: 0 });
    expect(dry.body.regions[WEST]).to.include({ ordersWritten: 1, claimsReleased: 0 });
    const noOrder = async (r: string): Promise<boolean> =>
      (await sandbox().scan(r, "orders")).every((o) => o.OrderId !== orderId);
    expect(await noOrder(EAST)).to.equal(true);
    expect(await noOrder(WEST)).to.equal(true);

    const real = await http("POST", control("/repair"), { regions: [EAST] });
    expect(real.status).to.equal(200);
    expect(Object.keys(real.body.regions)).to.deep.equal([EAST]);
    expect(real.body.regions[EAST]).to.include({ ordersWritten: 1, claimsReleased: 0 });
    const order = await orderIn(WEST, orderId);
    expect(order).to.include({ ProductId: productId, OrderStatus: "CONFIRMED", OrderTotal: 42 });
    await sandbox().replicator.waitIdle(10_000);

    const again = await http("POST", control("/repair"), {});
    expect(again.status).to.equal(200);
    for (const r of [EAST, WEST]) {
      expect(again.body.regions[r]).to.include({ ordersWritten: 0, claimsReleased: 0 });
    }
  });

  it("POST /control/repair refuses bad bodies, unknown regions and stopped databases, writing nothing", async () => {
    const { orderId } = await claimWithoutOrder(EAST);
    const cases: [unknown, number, string][] = [
      [{ regions: "us-east-1" }, 400, "regions"],
      [{ regions: [] }, 400, "regions"],
      [{ dryRun: "yes" }, 400, "dryRun"],
      [{ other: 1 }, 400, "other"],
      [{ regions: ["eu-west-9"] }, 404, "eu-west-9"],
    ];
    for (const [body, status, names] of cases) {
      const res = await http("POST", control("/repair"), body);
      expect(res.status, JSON.stringify(body)).to.equal(status);
      expect(res.body.message, JSON.stringify(body)).to.contain(names);
    }
    expect((await sandbox().scan(EAST, "orders")).map((o) => o.OrderId)).not.to.include(orderId);
    await sandbox().replicator.waitIdle(10_000);
    await sandbox().stopRegion(WEST, "database");
    const stopped = await http("POST", control("/repair"), { regions: [WEST] });
    expect(stopped.status).to.equal(409);
    expect(stopped.body.message).to.contain(WEST);
    // Nothing was written by the refused requests: the claim is still there to repair.
    const repaired = await http("POST", control("/repair"), { regions: [EAST] });
    expect(repaired.body.regions[EAST]).to.include({ ordersWritten: 1 });
  });

  it("a region whose database comes back repairs its sales and says how many orders it wrote", async () => {
    await sandbox().stopRegion(EAST, "database");
    const { productId, orderId } = await claimWithoutOrder(WEST);
    lines.length = 0;
    const started = await http(
      "POST",
      control(`/regions/${EAST}/start?part=database`),
      undefined,
      {},
      START_TIMEOUT_MS,
    );
    expect(started.status).to.equal(200);
    const line = lines.find((l) => l.startsWith(`${EAST}: database back`));
    expect(line, lines.join("\n")).to.match(/; repair: 1 orders written from their claims/);
    expect(await orderIn(EAST, orderId)).to.include({ ProductId: productId });
    expect(await orderIn(WEST, orderId)).to.include({ ProductId: productId });
  });

  it("the drill counts sold-without-order before repair, repairs, and counts 0 after; without repair it stays counted", async () => {
    const target = await connectSandbox({ endpoint: sandbox().urls.global });
    const { productId, orderId } = await claimWithoutOrder(EAST);
    const products = new Set([productId]);

    // A target that cannot repair: the anomaly is counted, before and after.
    const { repair: _unused, ...rest } = target;
    const noRepair: DrillTarget = rest;
    const skipped = await repairData(noRepair, [EAST, WEST], [], products, 10_000);
    expect(skipped).to.deep.include({ ran: false, soldWithoutOrderBefore: 1, ordersWritten: 0 });
    const still = await checkData(noRepair, [EAST, WEST], [], products, 0);
    expect(still.anomalies.soldWithoutOrder.count).to.equal(1);
    expect(still.anomalies.soldWithoutOrder.products.map((p) => p.region)).to.deep.equal([
      EAST,
      WEST,
    ]);

    const repaired = await repairData(target, [EAST, WEST], [], products, 10_000);
    expect(repaired).to.deep.include({ ran: true, soldWithoutOrderBefore: 1, ordersWritten: 1 });
    expect(repaired.byRegion[EAST]).to.include({ ordersWritten: 1 });
    // EAST's order replicated before WEST was repaired: WEST found it there.
    expect(repaired.byRegion[WEST]).to.include({ ordersWritten: 0 });
    const after = await checkData(target, [EAST, WEST], [], products, 0);
    expect(after.anomalies.soldWithoutOrder.count).to.equal(0);
    expect(await orderIn(WEST, orderId)).to.include({ ProductId: productId });
  });
});
