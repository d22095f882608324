/**
 * `npm run drill -- --target aws` end to end, without AWS: the sandbox behind the stand-ins of
 * local/aws-standin (signature-verifying API fronts, a dns2 server answering the service name
 * with a TTL, ARC/FIS/CloudWatch fakes), driven through the same CLI function as the sandbox
 * target, on the same load, and compared with the sandbox target's report.
 */
import { FisClient, ListExperimentsCommand } from "@aws-sdk/client-fis";
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAwsStandIn, type AwsStandIn } from "../local/aws-standin";
import { anomalyCounts } from "../local/drill/anomalies";
import { drill } from "../tools/drill";
import type { DrillCliOptions } from "../tools/drill-args";
import { useSandbox } from "./support/sandbox";

const EAST = "us-east-1";
const WEST = "us-west-2";

const LOAD = {
  durationMs: 12_000,
  faultAtMs: 4_000,
  rate: 1,
  clients: 1,
  clientFailover: false,
  heal: true,
  verbose: false,
  includeOps: false,
} as const;

/** A summary of no values has no percentiles or max (JSON leaves them out): not a shape difference. */
const SUMMARY_OPTIONAL = ["p50", "p95", "p99", "max"];

/** Every key path of a JSON value, objects' keys sorted; maps keyed by data are cut at `cut`. */
function shape(value: unknown, cut: readonly string[], at = ""): string[] {
  if (Array.isArray(value)) return [`${at}[]`];
  if (typeof value !== "object" || value === null) return [at];
  if (cut.includes(at)) return [`${at}{}`];
  const isSummary = "count" in value;
  return Object.keys(value)
    .filter((k) => !(isSummary && SUMMARY_OPTIONAL.includes(k)))
    .sort()
    .flatMap((k) => shape((value as Record<string, unknown>)[k], cut, at ? `${at}.${k}` : k));
}

/** Keys whose sub-keys depend on the data or the target (lag per table/direction, anomaly examples). */
const DATA_KEYED = [
  "replicationLagMs",
  "settings",
  "rpo.lostOrderIds",
  "rto.movedMsByClient",
  "repair.byRegion",
];

function within(a: number, b: number, ratio: number): boolean {
  return Math.min(a, b) >= Math.max(a, b) * ratio;
}

describe("drill --target aws against the AWS stand-ins", function () {
  this.timeout(180_000);
  const { sandbox } = useSandbox();
  let standIn: AwsStandIn;
  let dir: string;
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    standIn = await startAwsStandIn({ sandbox: sandbox(), ttlSeconds: 1 });
    // The SDK's default chain finds the stand-ins' keys where it finds real ones.
    for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
      saved[k] = process.env[k];
    }
    process.env["AWS_ACCESS_KEY_ID"] = standIn.credentials.accessKeyId;
    process.env["AWS_SECRET_ACCESS_KEY"] = standIn.credentials.secretAccessKey;
    delete process.env["AWS_SESSION_TOKEN"];
    dir = mkdtempSync(join(tmpdir(), "drill-aws-"));
  });

  after(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await standIn?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const awsOpts = (scenario: DrillCliOptions["scenario"], out: string): DrillCliOptions => ({
    ...LOAD,
    scenario,
    target: "aws",
    aws: {
      outputs: [standIn.outputsDir],
      dnsServer: standIn.dns.address,
      fisEndpoint: standIn.endpoints.fis,
      cloudWatchEndpoint: standIn.endpoints.cloudwatch,
    },
    out: join(dir, out),
  });

  const quiet = (lines: string[]) => ({
    out: (l: string) => lines.push(l),
    progress: () => undefined,
  });

  it("switch: a report of the same shape and similar numbers as the sandbox target's", async () => {
    const awsLines: string[] = [];
    const aws = (await drill(awsOpts("switch", "aws.json"), quiet(awsLines))).report;
    const local = (
      await drill(
        {
          ...LOAD,
          scenario: "switch",
          endpoint: sandbox().urls.global,
          ttlSeconds: 1,
          out: join(dir, "sandbox.json"),
        },
        quiet([]),
      )
    ).report;

    // Same shape: every key path of the sandbox report is in the AWS report and the other way.
    expect(shape(aws, DATA_KEYED)).to.deep.equal(shape(local, DATA_KEYED));
    expect(aws.target).to.equal(`aws ${standIn.serviceDomain}`);
    expect(JSON.parse(readFileSync(join(dir, "aws.json"), "utf8"))).to.deep.equal(
      JSON.parse(JSON.stringify(aws)),
    );

    // Similar numbers, with wide bounds. The two runs share a 2-core machine with other work,
    // one after the other, and the AWS path signs every request and adds an HTTP hop, so
    // throughput is noisy: "similar" is acknowledged orders within a factor of four of each
    // other (each some, at most what was offered), nothing lost, no anomaly, replication
    // converged, and the global name moved off the faulted region in both.
    const offered = (LOAD.rate * LOAD.durationMs * 2) / 1000;
    for (const r of [aws, local]) {
      expect(r.rpo.acknowledgedOrders, r.target).to.be.within(3, offered + 2);
      expect(anomalyCounts(r.anomalies), r.target).to.equal(
        "double-sold 0, resold 0, overwritten acknowledged 0, sold without order 0, lost acknowledged 0",
      );
      expect(r.rpo.lostWrites, r.target).to.equal(0);
      expect(r.rpo.converged, r.target).to.equal(true);
    }
    expect(within(aws.rpo.acknowledgedOrders, local.rpo.acknowledgedOrders, 0.25)).to.equal(
      true,
      `acknowledged: aws ${aws.rpo.acknowledgedOrders}, sandbox ${local.rpo.acknowledgedOrders}`,
    );
    expect(aws.rpo.checkedAgainst).to.equal("acknowledged orders");
    expect(local.rpo.checkedAgainst).to.equal("region tables");

    // The fault moved the global name in both: after it, the other region served most requests.
    for (const r of [aws, local]) {
      const after = r.requests.servedAfterFault;
      expect(after[WEST] ?? 0, r.target).to.be.greaterThan(after[EAST] ?? 0);
    }

    // Lag from the drill's own probes and from CloudWatch, both counted.
    const probes = Object.entries(aws.replicationLagMs).filter(([k]) => k.startsWith("probe "));
    const cloudWatch = Object.entries(aws.replicationLagMs).filter(([k]) =>
      k.endsWith("(CloudWatch)"),
    );
    expect(probes.length).to.equal(2);
    for (const [k, s] of [...probes, ...cloudWatch]) expect(s.count, k).to.be.greaterThan(0);
    expect(cloudWatch.map(([k]) => k)).to.include(`orders ${EAST}>${WEST} (CloudWatch)`);

    // Undone: every routing control On again, nothing left in the ledger's output.
    expect(sandbox().endpoint.routingControls()).to.deep.equal({ [EAST]: "On", [WEST]: "On" });
    expect(awsLines.filter((l) => l.includes("STILL FAULTED"))).to.deep.equal([]);
  });

  it("replication-pause: starts FIS experiments, the probes see the pause, and stops them", async () => {
    const lines: string[] = [];
    const { report } = await drill(awsOpts("replication-pause", "pause.json"), quiet(lines));
    expect(standIn.fis.running()).to.deep.equal([]);
    const started: string[] = [];
    for (const region of [EAST, WEST]) {
      const fis = new FisClient({
        region,
        endpoint: standIn.endpoints.fis,
        credentials: standIn.credentials,
      });
      const template = standIn.templateIds["replication-pause"]?.[region];
      const { experiments } = await fis.send(new ListExperimentsCommand({}));
      for (const e of experiments ?? []) {
        if (e.experimentTemplateId === template) {
          expect(e.state?.status, `${region} ${e.id}`).to.equal("stopped");
          started.push(region);
        }
      }
    }
    expect(started).to.deep.equal([EAST, WEST]);
    // Probes written during the pause are read elsewhere only after it: seconds, not ms.
    const maxProbe = Math.max(
      ...Object.entries(report.replicationLagMs)
        .filter(([k]) => k.startsWith("probe "))
        .map(([, s]) => s.max ?? 0),
    );
    expect(maxProbe).to.be.greaterThan(2_000);
    expect(report.rpo.lostWrites).to.equal(0);
    expect(lines.filter((l) => l.includes("STILL FAULTED"))).to.deep.equal([]);
  });
});
