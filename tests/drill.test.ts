/**
 * Short drills of every scenario against one sandbox, checked against what the test observes
 * itself: the global endpoint's request log, the sandbox's event log and the region tables.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drill } from "../tools/drill";
import { anomalyCounts } from "../local/drill/anomalies";
import type { DrillOptions } from "../local/drill/plan";
import { attemptFailed, type DrillReport, type OpRecord } from "../local/drill/report";
import { formatReport } from "../local/drill/report-text";
import { runDrill } from "../local/drill/run";
import { connectSandbox } from "../local/drill/sandbox-target";
import type { Sandbox } from "../local/sandbox";
import { TEST_SANDBOX, useSandbox } from "./support/sandbox";

const EAST = "us-east-1";
const WEST = "us-west-2";
const DURATION_MS = 12_000;
const FAULT_AT_MS = 4_000;
const RATE = 2;

/** Acknowledged orders, from the report's own operation list. */
function acknowledged(report: DrillReport): string[] {
  return (report.ops ?? [])
    .filter((o: OpRecord) => o.kind === "create" && o.outcome === "ok")
    .map((o) => o.orderId);
}

async function orderIds(sandbox: Sandbox, region: string): Promise<Set<string>> {
  return new Set((await sandbox.scan(region, "orders")).map((o) => String(o.OrderId)));
}

/** What the global endpoint saw of this drill's clients: responses per serving region. */
function servedByRegion(sandbox: Sandbox, report: DrillReport): Record<string, number> {
  const from = Date.parse(report.startedAt);
  const to = Date.parse(report.endedAt);
  const log = sandbox.endpoint
    .requests({ clientPrefix: "drill-", since: from })
    .filter((r) => r.at <= to);
  const out: Record<string, number> = { [EAST]: 0, [WEST]: 0 };
  for (const r of log) {
    if (r.status < 500 && r.servedBy && !r.clientId.startsWith("drill-setup"))
      out[r.servedBy] = (out[r.servedBy] ?? 0) + 1;
  }
  return out;
}

function reportServed(report: DrillReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of report.regions) {
    out[r] =
      (report.requests.servedBeforeFault[r] ?? 0) + (report.requests.servedAfterFault[r] ?? 0);
  }
  return out;
}

describe("drill (short runs against a two-region sandbox)", function () {
  this.timeout(90_000);
  const { sandbox } = useSandbox();

  const run = async (scenario: DrillReport["scenario"], extra: Partial<DrillOptions> = {}) =>
    runDrill(await connectSandbox({ endpoint: sandbox().urls.global }), {
      scenario,
      durationMs: DURATION_MS,
      faultAtMs: FAULT_AT_MS,
      ratePerRegion: RATE,
      ttlSeconds: TEST_SANDBOX.ttlSeconds ?? 1,
      includeOps: true,
      settleTimeoutMs: 15_000,
      ...extra,
    });

  // How fast traffic moves is measured by the drill and reported (README), not asserted here: a
  // test never times things, and a loaded machine stretches any bound.
  it("switch: traffic moves to the other region, nothing fails, no write is lost", async () => {
    const report = await run("switch");
    expect(report.rto.affectedClients).to.deep.equal([report.rto.affectedClients[0]]);
    expect(report.rto.affectedClients[0]).to.contain(EAST);
    expect(report.rto.trafficMovedMs).to.be.a("number");
    expect(report.rto.rtoMs).to.equal(report.rto.trafficMovedMs);
    expect(report.requests.failed).to.equal(0);
    expect(report.requests.afterFault.failedAttempts).to.equal(0);
    expect(report.rpo.converged).to.equal(true);
    expect(report.rpo.lostWrites).to.equal(0);
    // One order per product, no retries: no anomaly of any kind.
    expect(anomalyCounts(report.anomalies)).to.equal(
      "double-sold 0, resold 0, overwritten acknowledged 0, sold without order 0, lost acknowledged 0",
    );

    // The test's own view: every acknowledged order is in both regions' tables...
    const ack = acknowledged(report);
    expect(ack.length).to.equal(report.rpo.acknowledgedOrders);
    for (const r of [EAST, WEST]) {
      const ids = await orderIds(sandbox(), r);
      expect(
        ack.filter((id) => !ids.has(id)),
        `missing in ${r}`,
      ).to.deep.equal([]);
    }
    // ...the global endpoint served exactly what the report counts, per region...
    expect(reportServed(report)).to.deep.equal(servedByRegion(sandbox(), report));
    // ...and the affected client's first successful request served by us-west-2 after the
    // control flipped matches the reported RTO (response time at the client vs. arrival time at
    // the proxy: a request's duration apart).
    const flipped = Date.parse(report.faultInjectedAt);
    const client = report.rto.affectedClients[0] as string;
    const firstMoved = sandbox()
      .endpoint.requests({ clientPrefix: client, since: flipped })
      .find((r) => r.servedBy === WEST && r.status < 400);
    expect(firstMoved, "a request of the affected client served by us-west-2").to.not.equal(
      undefined,
    );
    // On a busy machine one request can take a while: allow that request's own duration.
    const faultAt = flipped - Date.parse(report.startedAt);
    const movedOp = (report.ops ?? [])
      .filter((o) => o.client === client && o.servedBy === WEST && o.startedAt >= faultAt - 1000)
      .sort((a, b) => a.startedAt - b.startedAt)[0];
    const slack = 250 + (movedOp ? movedOp.endedAt - movedOp.startedAt : 0);
    expect((firstMoved?.at ?? 0) - flipped).to.be.closeTo(
      report.rto.trafficMovedMs as number,
      slack,
    );
    // The routing control was put back afterwards.
    expect(sandbox().endpoint.routingControls()).to.deep.equal({ [EAST]: "On", [WEST]: "On" });
  });

  it("region-loss: the surviving region takes the traffic; lost writes are what its table lacks", async () => {
    const report = await run("region-loss", { clientFailover: true });
    expect(report.rto.trafficMovedMs).to.be.a("number");
    expect(report.rto.recovered99Ms).to.be.a("number");
    expect(report.rpo.survivingRegions).to.deep.equal([WEST]);
    expect(report.rpo.converged).to.equal(true);
    // Client failover retried failed requests at us-west-2's own endpoint: no operation failed.
    expect(report.requests.failed).to.equal(0);
    // Every failed request was retried at the other region, which answered (an order whose
    // first attempt reached us-east-1 before it stopped may be answered 409 or read back 404
    // there: half a sale can replicate, see the anomalies).
    const retried = (report.ops ?? []).filter((o) => attemptFailed(o.attempts[0] ?? o));
    expect(retried.length).to.equal(report.requests.failedAttempts);
    for (const o of retried) {
      expect(o.attempts.map((a) => a.via)).to.deep.equal(["global", WEST]);
      expect(attemptFailed(o.attempts[1] ?? o), o.orderId).to.equal(false);
    }
    expect(report.requests.savedByClientFailover).to.be.at.most(retried.length);
    // Lost writes as the test counts them (before the healing reseed, which cannot restore them).
    const ack = acknowledged(report);
    const west = await orderIds(sandbox(), WEST);
    const missing = ack.filter((id) => !west.has(id)).sort();
    expect(report.rpo.lostOrderIds[WEST]).to.deep.equal(missing);
    expect(report.rpo.lostWrites).to.equal(missing.length);
    // Healed: us-east-1 runs again, reseeded from us-west-2.
    expect(sandbox().regionStatus(EAST)).to.include({ api: true, database: true });
    await sandbox().replicator.waitIdle(10_000);
    expect((await sandbox().convergence()).identical).to.equal(true);
  });

  it("replication-pause: requests keep succeeding, lag grows, nothing is lost after resume", async () => {
    const report = await run("replication-pause");
    expect(report.rto.recovered99Ms).to.equal(0);
    expect(report.rto.rtoMs).to.equal(0);
    expect(report.rto.trafficMovedMs).to.equal(null);
    expect(report.requests.failed).to.equal(0);
    expect(report.rpo.converged).to.equal(true);
    expect(report.rpo.lostWrites).to.equal(0);
    // Changes held during the pause waited at least most of it.
    const pausedMs = DURATION_MS - FAULT_AT_MS;
    expect(report.replicationLagMs.orders?.max ?? 0).to.be.at.least(pausedMs * 0.6);
    const directions = sandbox().replicator.stats();
    expect(directions.every((d) => !d.paused)).to.equal(true);
  });

  it("--contention: products ordered from both regions inside the lag are sold twice, and counted", async () => {
    const report = await run("switch", { contention: 1, contentionSpreadMs: 100 });
    expect(report.settings).to.include({ contention: 1, contentionSpreadMs: 100 });
    expect(report.load.rivalOrders).to.be.greaterThan(0);
    const double = report.anomalies.doubleSold;
    expect(double.count, anomalyCounts(report.anomalies)).to.be.greaterThan(0);
    expect(double.count).to.equal(double.products.length);
    // The test's own count: products with two acknowledged orders (from the operations), both
    // orders stored in both regions after convergence.
    const ok = (report.ops ?? []).filter((o) => o.kind === "create" && o.outcome === "ok");
    const byProduct = new Map<string, string[]>();
    for (const o of ok)
      byProduct.set(o.productId, [...(byProduct.get(o.productId) ?? []), o.orderId]);
    const east = await orderIds(sandbox(), EAST);
    const west = await orderIds(sandbox(), WEST);
    const expected = [...byProduct]
      .map(([productId, ids]) => ({
        productId,
        orderIds: ids.filter((id) => east.has(id) && west.has(id)).sort(),
      }))
      .filter((p) => p.orderIds.length > 1)
      .sort((a, b) => a.productId.localeCompare(b.productId));
    expect(double.products).to.deep.equal(expected);
    // Each double sale was acknowledged by two different regions (each checked its own copy).
    for (const p of double.products) {
      const served = ok.filter((o) => p.orderIds.includes(o.orderId)).map((o) => o.servedBy);
      expect(new Set(served).size, p.productId).to.equal(2);
    }
    // The regions agree on one buyer per product: last writer wins, the other order stays,
    // cancelled by the reconciler of the region that sold it.
    const products = await sandbox().scan(EAST, "products");
    for (const p of double.products) {
      const stored = products.find((x) => x.ProductId === p.productId);
      expect(p.orderIds).to.include(stored?.SoldToOrderId);
    }
    expect(formatReport(report)).to.contain(`double-sold ${double.count},`);

    // Compensation: every double sale compensated, none outstanding, each loser cancelled once.
    const c = report.compensation;
    expect(c).to.deep.include({
      doubleSales: double.count,
      compensated: double.count,
      outstanding: 0,
      winnersCancelled: 0,
    });
    expect(c?.msToCancel.count).to.equal(double.count);
    expect(c?.msToCancel.p50).to.be.a("number");
    // The test's own check, in both regions' tables and through each region's API.
    const losers: string[] = [];
    for (const region of [EAST, WEST]) {
      const orders = new Map((await sandbox().scan(region, "orders")).map((o) => [o.OrderId, o]));
      const held = new Map(
        (await sandbox().scan(region, "products")).map((x) => [x.ProductId, x.SoldToOrderId]),
      );
      for (const p of double.products) {
        const winner = held.get(p.productId);
        for (const id of p.orderIds) {
          const o = orders.get(id);
          if (id === winner) {
            expect(o?.OrderStatus, `${region} ${id} (winner)`).to.equal("CONFIRMED");
            continue;
          }
          expect(o, `${region} ${id} (loser)`).to.include({
            OrderStatus: "CANCELLED",
            CancelledInFavourOf: winner,
            CancelledByRegion: o?.CreatedInRegion,
          });
          if (region === EAST) losers.push(id);
        }
      }
    }
    expect(losers.length).to.equal(c?.cancelledOrders);
    const target = await connectSandbox({ endpoint: sandbox().urls.global });
    for (const id of losers.slice(0, 3)) {
      const r = await target.endpoints.viaRegion(WEST, { method: "GET", path: `/orders/${id}` });
      const body = r.body as { order: Record<string, unknown>; sale: { thisOrder: boolean } };
      expect(r.status).to.equal(200);
      expect(body.order).to.include({ OrderStatus: "CANCELLED" });
      expect(body.order.CancelReason).to.be.a("string");
      expect(body.sale.thisOrder).to.equal(false);
    }
    expect(formatReport(report)).to.contain(
      `double sales ${double.count}, compensated ${double.count}, outstanding 0`,
    );
  });

  it("--contention with the reconciler paused: the double sales stay outstanding, and are counted", async () => {
    const reconciler = sandbox().reconciler;
    if (!reconciler) throw new Error("the test sandbox runs the reconciler");
    reconciler.pause();
    let report: DrillReport;
    try {
      report = await run("switch", {
        contention: 1,
        contentionSpreadMs: 100,
        compensationTimeoutMs: 1_000,
      });
    } finally {
      reconciler.resume();
    }
    const c = report.compensation;
    expect(c?.doubleSales).to.equal(report.anomalies.doubleSold.count).and.to.be.greaterThan(0);
    expect(c).to.deep.include({ compensated: 0, cancelledOrders: 0 });
    expect(c?.outstanding).to.equal(c?.doubleSales);
    expect(report.notes.some((n) => n.includes("still not compensated"))).to.equal(true);
  });

  it("--retry-elsewhere: the same order id acknowledged by both regions, one answer overwritten", async () => {
    // A client that waits 0 ms retries every order elsewhere: both regions take it.
    const report = await run("switch", { retryElsewhere: true, retryAfterMs: 0 });
    expect(report.settings).to.include({ retryElsewhere: true, retryAfterMs: 0 });
    expect(report.load.retriedElsewhere).to.be.greaterThan(0);
    const over = report.anomalies.overwrittenAcknowledged;
    expect(over.count, anomalyCounts(report.anomalies)).to.be.greaterThan(0);
    const stored = new Map((await sandbox().scan(WEST, "orders")).map((o) => [o.OrderId, o]));
    for (const o of over.orders) {
      // What is stored now is what the report says, and not what this answer told the client.
      expect(o.stored).to.deep.equal(stored.get(o.orderId));
      expect(o.acknowledged.OrderId).to.equal(o.orderId);
      expect(o.acknowledged).to.not.deep.equal(o.stored);
      // The operation got two acknowledgements from two regions for this one order id.
      const op = (report.ops ?? []).find((x) => x.kind === "create" && x.orderId === o.orderId);
      const acks = (op?.attempts ?? []).filter((a) => a.status === 201 || a.status === 200);
      expect(new Set(acks.map((a) => a.servedBy)).size, o.orderId).to.equal(2);
    }
    // One order id per product: retries sell nothing twice.
    expect(report.anomalies.doubleSold.count).to.equal(0);
  });

  it("region-loss, going on selling: orders lost with the region are counted, their products resold", async function () {
    // Starting the lost region again (a JVM and a reseed) is slow on a busy machine.
    this.timeout(180_000);
    // From the start of the load until the region is lost, nothing us-east-1 acknowledges
    // reaches us-west-2: every such order is lost with it.
    const pauseDuringLoad = (line: string): void => {
      if (line.startsWith("running")) sandbox().replicator.pause(EAST, WEST);
      if (line.startsWith("fault injected")) sandbox().replicator.resume();
    };
    let report: DrillReport;
    try {
      report = await run("region-loss", {
        clientFailover: true,
        resellWindowMs: 60_000,
        onStep: pauseDuringLoad,
      });
    } finally {
      sandbox().replicator.resume();
    }
    const lost = report.anomalies.lostAcknowledged;
    const eastAcks = (report.ops ?? [])
      .filter((o) => o.kind === "create" && o.outcome === "ok" && o.servedBy === EAST)
      .map((o) => o.orderId)
      .sort();
    expect(eastAcks.length).to.be.greaterThan(0);
    expect(lost.orderIds).to.deep.equal(eastAcks);
    expect(lost.byRegion).to.deep.equal({ [WEST]: eastAcks });
    // Each lost product was offered again in us-west-2, which still had it IN_STOCK, and sold.
    const resales = (report.ops ?? []).filter((o) => o.load === "resale");
    expect(resales.length).to.equal(report.load.resaleOrders).and.to.be.greaterThan(0);
    const resold = report.anomalies.resold;
    const soldAgain = resales.filter((o) => o.outcome === "ok");
    expect(resold.count).to.equal(soldAgain.length).and.to.be.greaterThan(0);
    expect(
      resold.products
        .map((p) => p.resoldOrderIds)
        .flat()
        .sort(),
    ).to.deep.equal(soldAgain.map((o) => o.orderId).sort());
    for (const p of resold.products)
      for (const id of p.lostOrderIds) expect(eastAcks).to.include(id);
  });

  it("the CLI writes the JSON report and prints the text form", async () => {
    const dir = mkdtempSync(join(tmpdir(), "drill-"));
    try {
      const out = join(dir, "report.json");
      const lines: string[] = [];
      const { report, file } = await drill(
        {
          scenario: "switch",
          endpoint: sandbox().urls.global,
          durationMs: 6_000,
          faultAtMs: 2_000,
          rate: 1,
          clients: 1,
          ttlSeconds: 1,
          clientFailover: false,
          heal: true,
          verbose: false,
          out,
          includeOps: false,
        },
        { out: (l) => lines.push(l), progress: () => undefined },
      );
      expect(file).to.equal(out);
      const saved = JSON.parse(readFileSync(out, "utf8")) as DrillReport;
      expect(saved.scenario).to.equal("switch");
      expect(saved.rpo.lostWrites).to.equal(report.rpo.lostWrites);
      expect(saved).to.not.have.property("ops");
      const text = formatReport(saved);
      expect(text).to.contain("RTO (client-observed, from the fault)");
      expect(text).to.contain("lost writes");
      expect(text).to.contain("Requests served per region");
      expect(lines.some((l) => l.startsWith("fault injected"))).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("drill, strong consistency (MRSC: two replicas and a witness)", function () {
  this.timeout(240_000);
  const { sandbox } = useSandbox({ consistency: "strong", regions: [EAST, WEST] });

  const run = async (scenario: DrillReport["scenario"], extra: Partial<DrillOptions> = {}) =>
    runDrill(await connectSandbox({ endpoint: sandbox().urls.global }), {
      scenario,
      durationMs: DURATION_MS,
      faultAtMs: FAULT_AT_MS,
      ratePerRegion: RATE,
      ttlSeconds: TEST_SANDBOX.ttlSeconds ?? 1,
      includeOps: true,
      settleTimeoutMs: 15_000,
      ...extra,
    });

  /** Acknowledged orders per product, from the report's own operations. */
  const acksByProduct = (report: DrillReport): Map<string, string[]> => {
    const out = new Map<string, string[]>();
    for (const o of report.ops ?? []) {
      if (o.kind === "create" && o.outcome === "ok")
        out.set(o.productId, [...(out.get(o.productId) ?? []), o.orderId]);
    }
    return out;
  };

  it("--contention 0.5: rival orders from both regions are refused, no product is sold twice", async () => {
    const report = await run("switch", { contention: 0.5, contentionSpreadMs: 100 });
    expect(report.settings.consistency).to.deep.include({ mode: "strong" });
    expect(report.load.rivalOrders).to.be.greaterThan(0);
    const a = report.anomalies;
    expect(
      [
        a.doubleSold.count,
        a.resold.count,
        a.lostAcknowledged.orderIds.length,
        a.overwrittenAcknowledged.count,
      ],
      anomalyCounts(a),
    ).to.deep.equal([0, 0, 0, 0]);
    // The test's own count: one acknowledged order per product, and the rivals were turned away.
    for (const [product, ids] of acksByProduct(report)) expect(ids, product).to.have.length(1);
    const refused = (report.ops ?? []).filter(
      (o) => o.kind === "create" && o.outcome === "refused",
    );
    expect(refused.length, "orders turned away as sold").to.be.greaterThan(0);
    expect(formatReport(report)).to.match(
      /consistency strong \(MRSC: us-east-1, us-west-2, witness us-east-2/,
    );
  });

  it("region-loss, going on selling: nothing acknowledged is lost, nothing is sold again", async function () {
    this.timeout(240_000);
    const report = await run("region-loss", { clientFailover: true, resellWindowMs: 60_000 });
    const a = report.anomalies;
    expect(
      [
        a.doubleSold.count,
        a.resold.count,
        a.lostAcknowledged.orderIds.length,
        a.overwrittenAcknowledged.count,
      ],
      anomalyCounts(a),
    ).to.deep.equal([0, 0, 0, 0]);
    // The lost region acknowledged orders, and the survivor holds every one of them.
    const eastAcks = (report.ops ?? [])
      .filter((o) => o.kind === "create" && o.outcome === "ok" && o.servedBy === EAST)
      .map((o) => o.orderId);
    expect(eastAcks.length).to.be.greaterThan(0);
    const west = await orderIds(sandbox(), WEST);
    for (const id of eastAcks) expect(west.has(id), id).to.equal(true);
    // Its products were offered again in the survivor, which knew they were sold.
    const resales = (report.ops ?? []).filter((o) => o.load === "resale");
    expect(resales.length).to.be.greaterThan(0);
    expect(resales.filter((o) => o.outcome === "ok")).to.deep.equal([]);
  });
});
