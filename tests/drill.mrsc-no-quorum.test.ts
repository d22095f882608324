/**
 * What the strong mode's zeros rest on: the same contention drill against the sandbox's MRSC
 * layer with its per-item locks and majority switched off (each region acknowledges a write once
 * it has it, the others get it after the write latency) sells products twice, and the drill
 * counts them. With quorum on, tests/drill.test.ts shows the count is 0.
 */
import { expect } from "chai";
import { anomalyCounts } from "../local/drill/anomalies";
import { runDrill } from "../local/drill/run";
import { connectSandbox } from "../local/drill/sandbox-target";
import { TEST_SANDBOX, useSandbox } from "./support/sandbox";

describe("drill against MRSC with quorum switched off", function () {
  this.timeout(180_000);
  const { sandbox } = useSandbox({
    consistency: "strong",
    regions: ["us-east-1", "us-west-2"],
    mrscQuorum: false,
    // A window as wide as MREC's, so rival orders land inside it.
    mrscWriteLatencyMs: 1_000,
  });

  it("--contention: products ordered from both regions are sold twice, and counted", async () => {
    expect(sandbox().consistencyView()).to.deep.include({ mode: "strong", quorum: false });
    const report = await runDrill(await connectSandbox({ endpoint: sandbox().urls.global }), {
      scenario: "switch",
      durationMs: 10_000,
      faultAtMs: 4_000,
      ratePerRegion: 2,
      ttlSeconds: TEST_SANDBOX.ttlSeconds ?? 1,
      includeOps: true,
      settleTimeoutMs: 15_000,
      contention: 1,
      contentionSpreadMs: 100,
    });
    const double = report.anomalies.doubleSold;
    expect(double.count, anomalyCounts(report.anomalies)).to.be.greaterThan(0);
    // Each double sale: two orders acknowledged by two regions for one product.
    const ok = (report.ops ?? []).filter((o) => o.kind === "create" && o.outcome === "ok");
    for (const p of double.products) {
      const served = ok.filter((o) => p.orderIds.includes(o.orderId)).map((o) => o.servedBy);
      expect(new Set(served).size, p.productId).to.equal(2);
    }
  });
});
