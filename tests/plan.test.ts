import { readFileSync } from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { stackRefName, type StackEvaluation } from "../tools/evaluate-stack";
import { sharedEvaluation } from "./support/stacks";
import type { RecordedResource } from "../tools/mock-engine";
import { canaryRunsPerMonth, estimateCost, usd } from "../tools/cost-estimate";
import { parsePlanArgs } from "../tools/plan";
import { formatPlan, money, planJson } from "../tools/plan-format";
import {
  PlanError,
  STACK_REFERENCE,
  listStacks,
  planStack,
  withConsistency,
  type StackPlan,
} from "../tools/planner";
import { HOURS_PER_MONTH, MRSC_TABLE_DRIVERS, PRICES, USAGE_BASED } from "../tools/prices";
import { PROJECT_DIR, readStackConfig } from "../tools/stack-config";
import { rejection } from "./support/errors";

/** The lines of one titled section of the printed plan, indentation removed. */
function section(text: string, title: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith(title));
  if (start < 0) throw new Error(`no section ${title}`);
  const end = lines.findIndex((l, i) => i > start && l === "");
  return lines.slice(start + 1, end < 0 ? undefined : end).map((l) => l.slice(2));
}

/** Resources `pulumi up` would create, counted by type, straight from the engine's records. */
function recordedCounts(run: StackEvaluation): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of run.engine.resources) {
    if (r.type !== STACK_REFERENCE) counts[r.type] = (counts[r.type] ?? 0) + 1;
  }
  return counts;
}

/** The printed tree as [depth, type, name] rows. */
function treeRows(text: string): [number, string, string][] {
  return section(text, "Resource tree").map((line) => {
    const m = /^((?:│ {2}| {3})*)[├└]─ (\S+) {2}(\S+)/.exec(line);
    if (!m) throw new Error(`not a tree line: ${line}`);
    return [(m[1] as string).length / 3, m[2] as string, m[3] as string];
  });
}

describe("npm run plan", function () {
  this.timeout(300_000);
  const plans: Record<string, StackPlan> = {};
  const direct: Record<string, StackEvaluation> = {};
  const printed: Record<string, string> = {};

  before(async () => {
    plans["region1"] = await planStack("region1");
    plans["region2"] = await planStack("region2");
    direct["region1"] = await sharedEvaluation("region1");
    direct["region2"] = await sharedEvaluation("region2", {}, { region1: {} });
    for (const s of ["region1", "region2"]) printed[s] = formatPlan(plans[s] as StackPlan);
  });

  it("README shows what npm run plan -- region2 prints", () => {
    const readme = readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
    const block = /<!-- plan-output:region2 -->\s*```\n([\s\S]*?)\n```/.exec(readme);
    expect(block, "README has no plan-output:region2 block").to.not.equal(null);
    expect(block![1]).to.equal((printed["region2"] as string).trimEnd());
  });

  for (const stack of ["region1", "region2"]) {
    describe(stack, () => {
      it("prints the counts by type the mock engine records", () => {
        const expected = recordedCounts(direct[stack] as StackEvaluation);
        const rows = section(printed[stack] as string, "Resources by type").map((l) => {
          const [n, type] = l.trim().split(/\s+/);
          return [type as string, Number(n)] as const;
        });
        const total = rows.find(([type]) => type === "total");
        const byType = Object.fromEntries(rows.filter(([type]) => type !== "total"));
        expect(byType).to.deep.equal(expected);
        const sum = Object.values(expected).reduce((a, b) => a + b, 0);
        expect(total?.[1]).to.equal(sum);
        expect(printed[stack]).to.match(
          new RegExp(`^Plan for stack ${stack} \\(\\S+\\): ${sum} resources to create`),
        );
      });

      it("puts every recorded resource in the tree exactly once, under its parent", () => {
        const run = direct[stack] as StackEvaluation;
        const records = run.engine.resources.filter((r) => r.type !== STACK_REFERENCE);
        const rows = treeRows(printed[stack] as string);
        const key = (type: string, name: string): string => `${type} ${name}`;
        expect(rows.map(([, t, n]) => key(t, n)).sort()).to.deep.equal(
          records.map((r) => key(r.type, r.name)).sort(),
        );
        const byUrn = new Map(records.map((r) => [r.urn, r]));
        const path: string[] = [];
        for (const [depth, type, name] of rows) {
          path.length = depth;
          const record = records.find(
            (r) => r.type === type && r.name === name,
          ) as RecordedResource;
          const parent = record.parent ? byUrn.get(record.parent) : undefined;
          expect(path.at(-1), `parent of ${key(type, name)}`).to.equal(
            parent ? key(parent.type, parent.name) : undefined,
          );
          path.push(key(type, name));
        }
      });

      it("accounts for every billable resource once in the cost section", () => {
        const plan = plans[stack] as StackPlan;
        const cost = estimateCost(plan.resources);
        const billable = plan.resources.filter((r) => r.type.startsWith("aws:"));
        const accounted =
          cost.lines.reduce((n, l) => n + l.count, 0) +
          cost.usageBased.reduce((n, u) => n + u.count, 0) +
          cost.noCharge.reduce((n, f) => n + f.count, 0) +
          cost.unpriced.reduce((n, u) => n + u.count, 0);
        expect(accounted).to.equal(billable.length);
        for (const line of cost.lines) {
          expect(line.monthlyUsd).to.be.closeTo(line.count * line.unitMonthlyUsd, 1e-9);
        }
        const types = new Set(cost.lines.map((l) => l.type));
        for (const type of types) {
          const lined = cost.lines.filter((l) => l.type === type).reduce((n, l) => n + l.count, 0);
          expect(lined, type).to.equal(billable.filter((r) => r.type === type).length);
        }
        const sum = cost.lines.reduce((s, l) => s + Math.round(l.monthlyUsd * 100), 0) / 100;
        expect(cost.totalMonthlyUsd).to.equal(sum);
        const costLines = section(printed[stack] as string, "Fixed monthly cost estimate");
        if (cost.lines.length === 0) {
          expect(costLines[0]).to.equal("nothing billed by the hour, month or run");
        } else {
          const total = costLines.find((l) => /^\s*total\s/.test(l));
          expect(total).to.match(
            new RegExp(`\\$${sum.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ",")}$`),
          );
        }
      });

      it("--json carries the same counts", () => {
        const plan = plans[stack] as StackPlan;
        const doc = JSON.parse(JSON.stringify(planJson(plan)));
        expect(doc.counts).to.deep.equal(recordedCounts(direct[stack] as StackEvaluation));
        expect(doc.resourceCount).to.equal(plan.resources.length);
        expect(doc.resources).to.have.length(plan.resources.length);
      });
    });
  }

  it("region1 reads no other stack", () => {
    expect(plans["region1"]?.references).to.deep.equal([]);
    expect(section(printed["region1"] as string, "Stack references")).to.deep.equal(["none"]);
  });

  it("region2's cross-stack references name region1 and outputs region1 exports", () => {
    const refs = plans["region2"]?.references ?? [];
    expect(refs.map((r) => [r.stack, r.reference, r.from])).to.deep.equal([
      ["region2", stackRefName("region1"), "region1"],
    ]);
    const outputs = refs[0]?.outputs ?? [];
    expect(outputs).to.include.members(["tableArns", "tableNames"]);
    for (const o of outputs) expect(plans["region1"]?.outputs).to.have.property(o);
    expect(section(printed["region2"] as string, "Stack references")).to.deep.equal([
      `region2 reads ${stackRefName("region1")} (planned from Pulumi.region1.yaml): ${outputs.join(", ")}`,
    ]);
    expect(plans["region2"]?.evaluated).to.deep.equal(["region1", "region2"]);
  });

  it("finds references from the mock engine's error too, and prints the same plan", async () => {
    const plan = await planStack("region2", { fromConfig: false });
    expect(plan.evaluated).to.deep.equal(["region1", "region2"]);
    expect(formatPlan(plan)).to.equal(printed["region2"]);
  });

  it("follows a chain of references (region3 -> region2 -> region1)", async () => {
    const region3 = {
      ...readStackConfig("region2"),
      "resilient-dynamo:primaryStack": "region2",
      "resilient-dynamo:namePrefix": "chain-test",
      // No routing of its own; region1 as a peer for its replication alarms toward us-east-1.
      "resilient-dynamo:routing": "none",
    };
    const plan = await planStack("region3", {
      stacks: ["region1", "region2", "region3"],
      readConfig: (s) => (s === "region3" ? region3 : readStackConfig(s)),
    });
    expect(plan.evaluated).to.deep.equal(["region1", "region2", "region3"]);
    expect(plan.references.map((r) => `${r.stack}->${r.from}`)).to.deep.equal([
      "region2->region1",
      "region3->region1",
      "region3->region2",
    ]);
  });

  describe("refuses what it cannot plan", () => {
    it("an unknown stack, listing the stacks that exist", async () => {
      const err = await rejection(() => planStack("region9"));
      expect(err).to.be.instanceOf(PlanError);
      const stacks = listStacks();
      expect(stacks).to.include.members(["region1", "region2"]);
      expect(err.message).to.equal(
        `unknown stack region9: there is no Pulumi.region9.yaml; stacks: ${stacks.join(", ")}`,
      );
    });

    it("a reference cycle, naming it", async () => {
      const cyclic = (s: string, other: string) => ({
        ...readStackConfig("region2"),
        "resilient-dynamo:primaryStack": other,
        "aws:region": s === "region1" ? "us-east-1" : "us-west-2",
      });
      const err = await rejection(() =>
        planStack("region1", {
          readConfig: (s) => cyclic(s, s === "region1" ? "region2" : "region1"),
        }),
      );
      expect(err).to.be.instanceOf(PlanError);
      expect(err.message).to.equal("stack reference cycle: region1 -> region2 -> region1");
    });

    it("a reference to a stack of another project", async () => {
      const err = await rejection(() =>
        planStack("region2", {
          readConfig: (s) =>
            s === "region2"
              ? {
                  ...readStackConfig("region2"),
                  "resilient-dynamo:primaryStack": "acme/other/region1",
                }
              : readStackConfig(s),
        }),
      );
      expect(err).to.be.instanceOf(PlanError);
      expect(err.message).to.match(
        /^stack region2 references acme\/other\/region1, which is not a stack of this project/,
      );
    });

    it("bad arguments", () => {
      expect(() => parsePlanArgs([])).to.throw(/name a stack: npm run plan -- <stack>/);
      expect(() => parsePlanArgs(["region1", "region2"])).to.throw(/one stack at a time/);
      expect(() => parsePlanArgs(["region1", "--yaml"])).to.throw(/Unknown option '--yaml'/);
      expect(parsePlanArgs(["region2", "--json"])).to.deep.equal({ stack: "region2", json: true });
      expect(() => parsePlanArgs(["region1", "--consistency", "STRONG"])).to.throw(
        /--consistency: got "STRONG"; expected eventual or strong/,
      );
      expect(() => parsePlanArgs(["region1", "--witness-region", "us-east-2"])).to.throw(
        /--witness-region goes with --consistency strong/,
      );
      expect(
        parsePlanArgs(["region2", "--consistency", "strong", "--witness-region", "us-east-2"]),
      ).to.deep.equal({
        stack: "region2",
        json: false,
        consistency: "strong",
        witnessRegion: "us-east-2",
      });
    });
  });

  describe("--consistency strong (withConsistency)", () => {
    it("sets the mode on every stack and the witness on the primary only", () => {
      const read = withConsistency((st) => readStackConfig(st), "strong", "us-east-2");
      expect(read("region1")).to.deep.include({
        "resilient-dynamo:consistency": "strong",
        "resilient-dynamo:witnessRegion": "us-east-2",
      });
      expect(read("region2")["resilient-dynamo:consistency"]).to.equal("strong");
      // A secondary keeps its own (Pulumi.yaml's empty default: unset).
      expect(read("region2")["resilient-dynamo:witnessRegion"]).to.equal("");
      const eventual = withConsistency(
        () => ({ "resilient-dynamo:role": "primary", "resilient-dynamo:witnessRegion": "x" }),
        "eventual",
      );
      expect(eventual("s")["resilient-dynamo:witnessRegion"]).to.equal("");
    });

    it("plans region2 with every stack strong: MRSC tables priced apart, no reconciler", async () => {
      const plan = await planStack("region2", {
        readConfig: withConsistency((st) => readStackConfig(st), "strong", "us-east-2"),
      });
      expect(plan.outputs["consistency"]).to.equal("strong");
      const types = plan.resources.map((x) => x.type);
      expect(types).to.not.include("aws:lambda/eventSourceMapping:EventSourceMapping");
      expect(types).to.not.include("aws:sqs/queue:Queue");
      const text = formatPlan(plan);
      expect(text.split("\n")[2]).to.equal("Consistency: strong");
      // Fewer alarms than eventual mode (the reconciler's, and replication alarms on the MRSC
      // tables, which replicate or fail); nothing else of fixed cost changes.
      const eventualResources = plans["region2"]!.resources;
      const strongUrns = new Set(plan.resources.map((r) => r.urn));
      const gone = eventualResources.filter((r) => !strongUrns.has(r.urn));
      expect(gone.map((r) => r.name)).to.include.members([
        "reconciler-us-west-2-failed",
        "reconciler-us-west-2-lag",
        "alarms-us-west-2-stalled-orders-region1",
      ]);
      expect(gone.filter((r) => /replication-kv|stalled-kv/.test(r.name))).to.deep.equal([]);
      const saved =
        estimateCost(eventualResources).totalMonthlyUsd -
        estimateCost(plan.resources).totalMonthlyUsd;
      expect(saved).to.be.greaterThan(2 * PRICES.alarmMetric.usd);
      expect(saved).to.be.closeTo(estimateCost(gone).totalMonthlyUsd, 1e-9);
    });
  });

  describe("mode in the header", () => {
    it("region1 and region2 print Consistency: eventual", () => {
      for (const st of ["region1", "region2"]) {
        expect((printed[st] as string).split("\n")[2], st).to.equal("Consistency: eventual");
      }
    });
  });
});

describe("plan cost estimate (price table)", () => {
  const r = (type: string, inputs: Record<string, any> = {}) => ({ type, inputs });
  const perMonth = (p: { usd: number }) => p.usd * HOURS_PER_MONTH;

  it("prices a synthetic set of resources from the table", () => {
    const resources = [
      r("aws:route53recoverycontrol/cluster:Cluster"),
      r("aws:route53recoverycontrol/controlPanel:ControlPanel"),
      ...[1, 2, 3].map(() => r("aws:route53recoveryreadiness/readinessCheck:ReadinessCheck")),
      ...[1, 2].map(() => r("aws:route53/healthCheck:HealthCheck", { type: "RECOVERY_CONTROL" })),
      ...[1, 2].map(() =>
        r("aws:route53/healthCheck:HealthCheck", { type: "HTTPS", requestInterval: 10, port: 443 }),
      ),
      r("aws:route53/healthCheck:HealthCheck", { type: "HTTPS", requestInterval: 30 }),
      r("aws:route53/zone:Zone"),
      r("aws:synthetics/canary:Canary", { schedule: { expression: "rate(1 minute)" } }),
      r("aws:synthetics/canary:Canary", { schedule: { expression: "rate(5 minutes)" } }),
      r("aws:synthetics/canary:Canary", { schedule: { expression: "cron(0 12 * * ? *)" } }),
      r("aws:cloudwatch/dashboard:Dashboard"),
      r("aws:cloudwatch/metricAlarm:MetricAlarm", { metricName: "Errors", period: 60 }),
      r("aws:cloudwatch/metricAlarm:MetricAlarm", {
        metricQueries: [
          { id: "a", metric: { metricName: "A", period: 10, stat: "Sum" } },
          { id: "b", metric: { metricName: "B", period: 10, stat: "Sum" } },
          { id: "e", expression: "a/b" },
        ],
      }),
      r("aws:kms/key:Key"),
      r("aws:dynamodb/table:Table"),
      r("aws:dynamodb/table:Table", { replicas: [{ regionName: "x", consistencyMode: "STRONG" }] }),
      r("aws:iam/role:Role"),
      r("aws:somewhere/new:Thing"),
      r("resilient-dynamo:index:ArcControlPlane"),
    ];
    const cost = estimateCost(resources);
    const line = (type: string, basis?: RegExp) =>
      cost.lines.filter((l) => l.type === type && (!basis || basis.test(l.basis)));

    const cluster = perMonth(PRICES.arcCluster);
    expect(cluster).to.equal(1825);
    expect(line("aws:route53recoverycontrol/cluster:Cluster")[0]?.monthlyUsd).to.equal(cluster);
    const readiness = 3 * perMonth(PRICES.readinessCheck);
    expect(line("aws:route53recoveryreadiness/readinessCheck:ReadinessCheck")[0]).to.deep.include({
      count: 3,
    });
    const rc = 2 * PRICES.healthCheckAws.usd;
    expect(line("aws:route53/healthCheck:HealthCheck", /RECOVERY_CONTROL/)[0]).to.deep.include({
      count: 2,
      monthlyUsd: rc,
    });
    // HTTPS and the 10 s interval are each an optional feature on a non-AWS endpoint.
    const httpsFast = PRICES.healthCheckNonAws.usd + 2 * PRICES.healthCheckFeatureNonAws.usd;
    const httpsSlow = PRICES.healthCheckNonAws.usd + PRICES.healthCheckFeatureNonAws.usd;
    expect(line("aws:route53/healthCheck:HealthCheck", /10 s interval/)[0]).to.deep.include({
      count: 2,
      unitMonthlyUsd: httpsFast,
    });
    expect(
      line("aws:route53/healthCheck:HealthCheck", /^HTTPS .*\(HTTPS\)\/month$/)[0],
    ).to.deep.include({ count: 1, unitMonthlyUsd: httpsSlow });
    const canaries = [43_800, 8_760].map((runs) => runs * PRICES.canaryRun.usd);
    expect(
      line("aws:synthetics/canary:Canary")
        .map((l) => l.monthlyUsd)
        .sort(),
    ).to.deep.equal([...canaries].sort());
    const alarms = PRICES.alarmMetric.usd + 2 * PRICES.alarmMetricHighResolution.usd;
    expect(
      line("aws:cloudwatch/metricAlarm:MetricAlarm").reduce((s, l) => s + l.monthlyUsd, 0),
    ).to.be.closeTo(alarms, 1e-9);

    const expected =
      cluster +
      readiness +
      rc +
      2 * httpsFast +
      httpsSlow +
      PRICES.hostedZone.usd +
      canaries.reduce((a, b) => a + b, 0) +
      PRICES.dashboard.usd +
      alarms +
      PRICES.kmsKey.usd;
    expect(cost.totalMonthlyUsd).to.be.closeTo(expected, 0.01);

    // An MRSC table (a replica with consistencyMode STRONG) is billed differently: its own line.
    expect(cost.usageBased.map((u) => [u.type, u.count, u.drivers])).to.deep.equal([
      ["aws:dynamodb/table:Table", 1, MRSC_TABLE_DRIVERS],
      ["aws:dynamodb/table:Table", 1, USAGE_BASED["aws:dynamodb/table:Table"]],
    ]);
    expect(cost.noCharge.map((f) => f.type)).to.deep.equal([
      "aws:iam/role:Role",
      "aws:route53recoverycontrol/controlPanel:ControlPanel",
    ]);
    expect(cost.unpriced.map((u) => [u.type, u.why])).to.deep.equal([
      ["aws:somewhere/new:Thing", "not in tools/prices.ts"],
      [
        "aws:synthetics/canary:Canary",
        "cron schedule cron(0 12 * * ? *) (runs per month not counted)",
      ],
    ]);
    expect(cost.unconfirmed).to.include("arcCluster").and.not.include("kmsKey");
  });

  it("counts canary runs per month from rate expressions", () => {
    const cases: [string, number | RegExp][] = [
      ["rate(1 minute)", 43_800],
      ["rate(5 minutes)", 8_760],
      ["rate(1 hour)", 730],
      ["rate(0 minute)", 0],
      ["cron(0 12 * * ? *)", /^cron schedule/],
      ["every minute", /^unrecognized schedule every minute$/],
    ];
    for (const [expression, expected] of cases) {
      const runs = canaryRunsPerMonth(expression);
      if (typeof expected === "number") expect(runs, expression).to.equal(expected);
      else expect(runs, expression).to.match(expected);
    }
  });

  it("every price names its source page, a check date and how it was checked", () => {
    for (const [key, price] of Object.entries(PRICES)) {
      expect(price.source, key).to.match(/^https:\/\/aws\.amazon\.com\/[a-z0-9-]+\/pricing\/$/);
      expect(price.checked, key).to.match(/^\d{4}-\d{2}-\d{2}$/);
      expect(["official", "secondary", "unverified"], key).to.include(price.verification);
      expect(price.usd, key).to.be.greaterThan(0);
    }
  });
});

describe("plan price formatting", () => {
  it("shows a price with the decimals it has", () => {
    expect([2.5, 0.045, 0.0012, 3, 0.1].map(usd)).to.deep.equal([
      "$2.50",
      "$0.045",
      "$0.0012",
      "$3.00",
      "$0.10",
    ]);
    expect([1825, 1872.364, 0].map(money)).to.deep.equal(["$1,825.00", "$1,872.36", "$0.00"]);
  });
});
