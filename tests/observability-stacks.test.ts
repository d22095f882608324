import { expect } from "chai";
import { canaryName } from "../components";
import { ConfigError, parseStackConfig } from "../stack/config";
import { TABLES } from "../functions/tables";
import { evaluateStack, stackRefName, type StackEvaluation } from "../tools/evaluate-stack";
import { readStackConfig } from "../tools/stack-config";
import { json } from "./support/pulumi";
import { rejection } from "./support/errors";
import { configOf, sharedEvaluation } from "./support/stacks";

const CANARY = "aws:synthetics/canary:Canary";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const BUCKET = "aws:s3/bucket:Bucket";
const ORDER = "01JD3V8Q7M2X4K9T6R5B0C1N8F";
const PRODUCT = "01JD3V8Q7M2X4K9T6R5B0C1N8G";
const ids = {
  "resilient-dynamo:canaryOrderId": ORDER,
  "resilient-dynamo:canaryProductId": PRODUCT,
};
const withIds = (stack: string, extra: Record<string, string> = {}) =>
  configOf(stack, { ...ids, ...extra });

describe("observability in the region stacks", function () {
  this.timeout(240_000);
  let region1: StackEvaluation;
  let region2: StackEvaluation;
  let region2NoRouting: StackEvaluation;
  const refs = () => ({ [stackRefName("region1")]: region1.outputs });

  before(async () => {
    region1 = await evaluateStack("region1", { config: withIds("region1") });
    region2 = await evaluateStack("region2", { config: withIds("region2"), stackOutputs: refs() });
    region2NoRouting = await evaluateStack("region2", {
      config: withIds("region2", { "resilient-dynamo:routing": "none" }),
      stackOutputs: refs(),
    });
  });

  const canaries = (run: StackEvaluation) => run.engine.ofType(CANARY);
  const env = (c: { inputs: Record<string, any> }) =>
    c.inputs["runConfig"].environmentVariables as Record<string, string>;

  it("region2's config puts the observer outside both app regions", () => {
    const cfg = readStackConfig("region2");
    expect(cfg["resilient-dynamo:observerRegion"]).to.equal("us-east-2");
    expect(JSON.parse(cfg["resilient-dynamo:peerStacks"] as string)).to.deep.equal(["region1"]);
  });

  it("runs one canary per app region plus one per observer target", () => {
    // region1: its own; region2: its own, and from us-east-2 both regional endpoints.
    expect(canaries(region1).map((c) => c.inputs["region"])).to.deep.equal(["us-east-1"]);
    expect(
      canaries(region2)
        .map((c) => c.inputs["region"])
        .sort(),
    ).to.deep.equal(["us-east-2", "us-east-2", "us-east-2", "us-west-2"]);
    const total = canaries(region1).length + canaries(region2).length;
    expect(total).to.equal(
      2 /* app regions */ + 2 /* observer: each regional endpoint */ + 1 /* the global name */,
    );
    // Without routing there is no global name to check.
    expect(canaries(region2NoRouting)).to.have.length(3);
  });

  it("points each canary at the endpoint it checks, signing for that endpoint's region", () => {
    const [home1] = canaries(region1);
    expect(env(home1!)).to.deep.equal({
      CANARY_ENDPOINT: region1.outputs["invokeUrl"],
      CANARY_SIGNING_REGION: "us-east-1",
      CANARY_ORDER_ID: ORDER,
      CANARY_PRODUCT_ID: PRODUCT,
      CANARY_TIMEOUT_MS: "10000",
    });
    const home2 = canaries(region2).find((c) => c.inputs["region"] === "us-west-2");
    expect(env(home2!)["CANARY_ENDPOINT"]).to.equal(region2.outputs["invokeUrl"]);
    expect(env(home2!)["CANARY_SIGNING_REGION"]).to.equal("us-west-2");
    const global = canaries(region2).find(
      (c) => c.inputs["name"] === canaryName("resilient-dynamo", "obs-global"),
    );
    expect(env(global!)["CANARY_ENDPOINT"]).to.equal("https://orders.example.com/v1");
    expect(env(global!)["CANARY_SIGNING_REGION"]).to.equal("*");
    const observed = canaries(region2NoRouting)
      .filter((c) => c.inputs["region"] === "us-east-2")
      .map((c) => [c.inputs["name"], env(c)["CANARY_ENDPOINT"], env(c)["CANARY_SIGNING_REGION"]])
      .sort();
    expect(observed).to.deep.equal([
      [canaryName("resilient-dynamo", "obs-region1"), region1.outputs["invokeUrl"], "us-east-1"],
      [canaryName("resilient-dynamo", "obs-region2"), region2.outputs["invokeUrl"], "us-west-2"],
    ]);
  });

  it("gives every canary a unique valid name and its own SuccessPercent alarm", () => {
    for (const run of [region1, region2, region2NoRouting]) {
      const names = canaries(run).map((c) => c.inputs["name"] as string);
      expect(new Set(names).size).to.equal(names.length);
      for (const n of names) expect(n).to.match(/^[0-9a-z_-]{1,21}$/);
      const alarmed = run.engine
        .ofType(ALARM)
        .filter((a) => a.inputs["namespace"] === "CloudWatchSynthetics")
        .map((a) => [a.inputs["dimensions"].CanaryName, a.inputs["region"]]);
      expect(alarmed).to.deep.equal(
        canaries(run).map((c) => [c.inputs["name"], c.inputs["region"]]),
      );
    }
  });

  it("keeps one artifacts bucket per canary region, public access blocked and encrypted", () => {
    for (const run of [region1, region2]) {
      const buckets = run.engine.ofType(BUCKET);
      expect(buckets.map((b) => b.inputs["region"]).sort()).to.deep.equal(
        [...new Set(canaries(run).map((c) => c.inputs["region"]))].sort(),
      );
      for (const b of buckets) {
        const blocks = run.engine
          .ofType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
          .filter((p) => p.inputs["bucket"] === b.id);
        expect(blocks).to.have.length(1);
        expect(blocks[0]?.inputs).to.deep.include({
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        });
        const sse = run.engine
          .ofType(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          )
          .filter((p) => p.inputs["bucket"] === b.id);
        expect(sse).to.have.length(1);
        expect(sse[0]?.inputs["rules"][0].applyServerSideEncryptionByDefault.sseAlgorithm).to.equal(
          "AES256",
        );
      }
    }
  });

  it("builds each region's dashboard from every table, every other region and both latency metrics", () => {
    for (const [run, home, other] of [
      [region1, "us-east-1", "us-west-2"],
      [region2, "us-west-2", "us-east-1"],
    ] as const) {
      const dashboards = run.engine.ofType("aws:cloudwatch/dashboard:Dashboard");
      expect(dashboards.map((d) => d.inputs["region"])).to.deep.equal([home]);
      const body = JSON.parse(dashboards[0]?.inputs["dashboardBody"]);
      const metrics: unknown[][] = body.widgets.flatMap((w: any) => w.properties.metrics ?? []);
      const flat = metrics.map((m) => m.filter((x) => typeof x === "string").join(" "));
      for (const t of TABLES) {
        expect(
          flat.some((m) =>
            m.includes(`TableName resilient-dynamo-${t.key} ReceivingRegion ${other}`),
          ),
          `${home}: ${t.key} -> ${other}`,
        ).to.equal(true);
      }
      expect(flat.some((m) => m.includes(`ReceivingRegion ${home}`))).to.equal(false);
      for (const name of ["ReadTime", "WriteTime"]) {
        expect(flat).to.include(`ResilientDynamo ${name} Region ${home}-${home}`);
      }
      const canaryLines = metrics.filter((m) => m[0] === "CloudWatchSynthetics");
      expect(canaryLines.length).to.equal(2 * canaries(run).length);
    }
  });

  it("every alarm has a threshold; canaries treat silence as failure, service alarms as no traffic", () => {
    for (const run of [region1, region2]) {
      const alarms = run.engine.ofType(ALARM);
      expect(alarms.length).to.be.greaterThan(canaries(run).length);
      for (const a of alarms) {
        expect(a.inputs["threshold"], a.name).to.be.a("number");
        const expected =
          a.inputs["namespace"] === "CloudWatchSynthetics" ? "breaching" : "notBreaching";
        expect(a.inputs["treatMissingData"], a.name).to.equal(expected);
      }
      const stalled = alarms.filter((a) => a.name.includes("-stalled-"));
      expect(stalled.length).to.equal(TABLES.length);
    }
  });

  it("grants no * action anywhere, and PutMetricData only in the Synthetics namespace", () => {
    for (const run of [region1, region2]) {
      const statements = run.engine
        .ofType("aws:iam/rolePolicy:RolePolicy")
        .flatMap((p) => json(p.inputs["policy"]).Statement);
      for (const s of statements) {
        for (const a of s.Action) expect(a).not.to.include("*");
        if (s.Action.includes("cloudwatch:PutMetricData")) {
          expect(s.Condition).to.deep.equal({
            StringEquals: { "cloudwatch:namespace": "CloudWatchSynthetics" },
          });
        }
      }
      const invoke = statements.filter((s) => s.Action.includes("execute-api:Invoke"));
      expect(invoke.length).to.equal(run === region1 ? 1 : 2);
      for (const s of invoke)
        for (const r of s.Resource) expect(r).to.match(/\/prod\/GET\/(orders|products)\/\*$/);
    }
  });

  it("without canary ids still deploys every canary, reading the canary items", async () => {
    const bare = await sharedEvaluation("region1");
    expect(bare.engine.ofType(CANARY).map(env)).to.deep.equal([
      {
        ...env(canaries(region1)[0]!),
        CANARY_ORDER_ID: "canary-order",
        CANARY_PRODUCT_ID: "canary-product",
      },
    ]);
    expect(bare.engine.ofType("aws:cloudwatch/dashboard:Dashboard")).to.have.length(1);
  });

  it("refuses an observer region that is an app region, naming the stack", async () => {
    const error = await rejection(() =>
      evaluateStack("region2", {
        config: withIds("region2", { "resilient-dynamo:observerRegion": "us-east-1" }),
        stackOutputs: refs(),
      }),
    );
    expect(error.message).to.match(
      /observerRegion must differ from the app regions: got us-east-1, the region of stack region1/,
    );
  });
});

describe("observability config", () => {
  const primary = {
    "aws:region": "us-east-1",
    "resilient-dynamo:role": "primary",
    "resilient-dynamo:replicaRegions": '["us-west-2"]',
  };

  it("applies the documented defaults", () => {
    expect(parseStackConfig(primary, "region1")).to.deep.include({
      canarySchedule: "rate(1 minute)",
      canaryRuntimeVersion: "syn-nodejs-puppeteer-15.0",
      canarySuccessPercentThreshold: 90,
      canaryAlarmPeriods: 3,
      replicationLatencyAlarmMs: 5000,
      replicationStalledMinutes: 5,
      api5xxRatePercent: 5,
      lambdaErrorsThreshold: 1,
      lambdaThrottlesThreshold: 1,
      alarmPeriods: 3,
    });
  });

  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "observer in the stack's own region",
      { "resilient-dynamo:observerRegion": "us-east-1" },
      /observerRegion must differ from the app regions \(us-east-1, us-west-2\): got us-east-1/,
    ],
    [
      "observer in a replica region",
      { "resilient-dynamo:observerRegion": "us-west-2" },
      /observerRegion must differ from the app regions \(us-east-1, us-west-2\): got us-west-2/,
    ],
    [
      "an order id without a product id",
      { "resilient-dynamo:canaryOrderId": ORDER },
      /canaryOrderId and resilient-dynamo:canaryProductId go together.*unset both to read the canary items the primary stack writes \(canary-order, canary-product\)/,
    ],
    [
      "an id with a space",
      { "resilient-dynamo:canaryOrderId": "my order", "resilient-dynamo:canaryProductId": PRODUCT },
      /canaryOrderId: got "my order"; expected an id returned by POST \/fill/,
    ],
    [
      "a cron schedule",
      { "resilient-dynamo:canarySchedule": "cron(* * * * ? *)" },
      /canarySchedule: got "cron\(\* \* \* \* \? \*\)"; expected a rate from rate\(1 minute\)/,
    ],
    [
      "a Playwright runtime",
      { "resilient-dynamo:canaryRuntimeVersion": "syn-nodejs-playwright-2.0" },
      /canaryRuntimeVersion: got "syn-nodejs-playwright-2.0"; expected a runtime such as syn-nodejs-puppeteer-15.0/,
    ],
    [
      "a success threshold above 100",
      { "resilient-dynamo:canarySuccessPercentThreshold": "120" },
      /canarySuccessPercentThreshold: got 120; expected an integer from 1 to 100/,
    ],
    [
      "a replication threshold as text",
      { "resilient-dynamo:replicationLatencyAlarmMs": '"5s"' },
      /replicationLatencyAlarmMs: got "5s"/,
    ],
    [
      "zero alarm periods",
      { "resilient-dynamo:alarmPeriods": "0" },
      /alarmPeriods: got 0; expected an integer from 1 to 1440/,
    ],
    [
      "a topic that is not an SNS ARN",
      { "resilient-dynamo:alarmTopicArn": "oncall" },
      /alarmTopicArn: got "oncall"; expected an SNS topic ARN/,
    ],
  ];
  for (const [what, patch, message] of cases) {
    it(`rejects ${what}, naming the key`, () => {
      let error: unknown;
      try {
        parseStackConfig({ ...primary, ...patch }, "region1");
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as Error).message).to.match(message);
    });
  }
});
