/**
 * Short drills of every scenario against one sandbox, checked against what the test observes
 * itself: the global endpoint's request log, the sandbox's event log and the region tables.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drill } from "../tools/drill";
import { formatReport, type DrillReport, type OpRecord } from "../local/drill/report";
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

  const run = async (scenario: DrillReport["scenario"], extra: { clientFailover?: boolean } = {}) =>
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

  it("switch: traffic moves within the TTL, nothing fails, no write is lost", async () => {
    const report = await run("switch");
    expect(report.rto.affectedClients).to.deep.equal([report.rto.affectedClients[0]]);
    expect(report.rto.affectedClients[0]).to.contain(EAST);
    expect(report.rto.trafficMovedMs).to.be.a("number");
    const ttlMs = (TEST_SANDBOX.ttlSeconds ?? 1) * 1000;
    expect(report.rto.trafficMovedMs as number).to.be.at.most(ttlMs + 1000 / RATE + 500);
    expect(report.rto.rtoMs).to.equal(report.rto.trafficMovedMs);
    expect(report.requests.failed).to.equal(0);
    expect(report.requests.afterFault.failedAttempts).to.equal(0);
    expect(report.rpo.converged).to.equal(true);
    expect(report.rpo.lostWrites).to.equal(0);
    expect(report.rpo.productsSoldTwice).to.equal(0);

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
    expect(report.requests.savedByClientFailover).to.equal(report.requests.failedAttempts);
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
