import { expect } from "chai";
import {
  SERVICE_ALARMS_DEFAULTS,
  ServiceAlarms,
  resolveThresholds,
  writeOperationsByTable,
  type AlarmThresholds,
  type ServiceAlarmsArgs,
} from "../components";
import { FUNCTION_NAMES } from "../functions/routes";
import { TABLES, TABLE_KEYS, type TableKey } from "../functions/tables";
import { underMocks, type MockEngine, type RecordedResource } from "./support/pulumi";

const TOPIC = "arn:aws:sns:us-east-1:000000000000:oncall";
const tableNames = Object.fromEntries(TABLES.map((t) => [t.key, `shop-${t.key}`])) as Record<
  TableKey,
  string
>;
const args: ServiceAlarmsArgs = {
  region: "us-east-1",
  tableNames,
  receivingRegions: [
    { key: "us-west-2", region: "us-west-2" },
    { key: "eu-west-1", region: "eu-west-1" },
  ],
  apiName: "shop-api",
  stageName: "prod",
  functions: Object.fromEntries(FUNCTION_NAMES.map((f) => [f, `shop-${f}-fn`])),
  alarmTopicArn: TOPIC,
};

describe("alarm thresholds", () => {
  it("default to the documented values", () => {
    expect(resolveThresholds()).to.deep.equal({
      replicationLatencyMs: 5000,
      replicationStalledMinutes: 5,
      api5xxRatePercent: 5,
      lambdaErrors: 1,
      lambdaThrottles: 1,
      alarmPeriods: 3,
    });
  });

  const bad: [Partial<AlarmThresholds>, RegExp][] = [
    [{ replicationLatencyMs: 0 }, /replicationLatencyMs must be above 0: got 0/],
    [{ replicationStalledMinutes: 0 }, /replicationStalledMinutes must be an integer from 1/],
    [{ api5xxRatePercent: 0 }, /api5xxRatePercent must be in \(0, 100\]: got 0/],
    [{ api5xxRatePercent: 150 }, /api5xxRatePercent/],
    [{ lambdaErrors: 0.5 }, /lambdaErrors must be an integer/],
    [{ lambdaThrottles: 0 }, /lambdaThrottles/],
    [{ alarmPeriods: 0 }, /alarmPeriods/],
  ];
  for (const [patch, message] of bad) {
    it(`reject ${JSON.stringify(patch)}`, () => {
      expect(() => resolveThresholds(patch)).to.throw(message);
    });
  }
});

describe("ServiceAlarms", function () {
  this.timeout(60_000);
  let engine: MockEngine;
  let alarms: RecordedResource[];
  const named = (part: string) => alarms.filter((a) => a.name.includes(`-${part}-`));

  before(async () => {
    ({ engine } = await underMocks("us-east-1", () => new ServiceAlarms("alarms", args)));
    alarms = engine.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
  });

  it("every alarm has a threshold, a missing-data rule, its region and the SNS topic", () => {
    expect(alarms).not.to.be.empty;
    for (const a of alarms) {
      expect(a.inputs["threshold"], a.name).to.be.a("number");
      expect(a.inputs["treatMissingData"], a.name).to.be.oneOf(["breaching", "notBreaching"]);
      expect(a.inputs["region"], a.name).to.equal("us-east-1");
      expect(a.inputs["alarmActions"], a.name).to.deep.equal([TOPIC]);
      expect(a.inputs["okActions"], a.name).to.deep.equal([TOPIC]);
      expect(a.inputs["alarmDescription"], a.name).to.be.a("string").and.not.empty;
    }
  });

  it("alarms on replication latency (Maximum) per table and receiving region", () => {
    const latency = named("replication");
    expect(
      latency
        .map((a) => `${a.inputs["dimensions"].TableName}>${a.inputs["dimensions"].ReceivingRegion}`)
        .sort(),
    ).to.deep.equal(
      TABLE_KEYS.flatMap((t) => [`shop-${t}>eu-west-1`, `shop-${t}>us-west-2`]).sort(),
    );
    for (const a of latency) {
      expect(a.inputs).to.deep.include({
        namespace: "AWS/DynamoDB",
        metricName: "ReplicationLatency",
        statistic: "Maximum",
        period: 60,
        threshold: SERVICE_ALARMS_DEFAULTS.thresholds.replicationLatencyMs,
        evaluationPeriods: 3,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
      });
    }
  });

  it("alarms when a table is written here but replication reports nothing for N minutes", () => {
    const stalled = named("stalled");
    const writes = writeOperationsByTable();
    expect(stalled).to.have.length(TABLE_KEYS.length * 2);
    for (const a of stalled) {
      const queries = a.inputs["metricQueries"] as any[];
      const lat = queries.find((q) => q.id === "lat");
      const table = lat.metric.dimensions.TableName as string;
      const key = table.replace("shop-", "") as TableKey;
      expect(lat.metric).to.deep.include({ metricName: "ReplicationLatency", stat: "SampleCount" });
      const writeQueries = queries.filter((q) => q.id.startsWith("w"));
      expect(writeQueries.map((q) => q.metric.dimensions.Operation)).to.deep.equal(writes[key]);
      for (const q of writeQueries) {
        expect(q.metric).to.deep.include({
          metricName: "SuccessfulRequestLatency",
          stat: "SampleCount",
        });
        expect(q.metric.dimensions.TableName).to.equal(table);
      }
      const expr = queries.find((q) => q.returnData);
      expect(expr.expression).to.match(
        /^IF\(\(FILL\(w0, 0\)( \+ FILL\(w\d, 0\))*\) > 0 AND FILL\(lat, 0\) == 0, 1, 0\)$/,
      );
      expect(a.inputs).to.deep.include({
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        evaluationPeriods: SERVICE_ALARMS_DEFAULTS.thresholds.replicationStalledMinutes,
        datapointsToAlarm: SERVICE_ALARMS_DEFAULTS.thresholds.replicationStalledMinutes,
        treatMissingData: "notBreaching",
      });
    }
  });

  it("alarms on the API's 5XX rate as a percent of its requests", () => {
    const [rate] = alarms.filter((a) => a.name === "alarms-api-5xx-rate");
    const queries = rate?.inputs["metricQueries"] as any[];
    expect(queries.map((q) => q.metric?.metricName ?? q.expression)).to.deep.equal([
      "5XXError",
      "Count",
      "IF(requests > 0, 100 * errors / requests, 0)",
    ]);
    for (const q of queries.filter((x) => x.metric)) {
      expect(q.metric.dimensions).to.deep.equal({ ApiName: "shop-api", Stage: "prod" });
    }
    expect(rate?.inputs).to.deep.include({
      threshold: 5,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    });
  });

  it("alarms on errors and throttles of every function", () => {
    for (const metric of ["Errors", "Throttles"]) {
      const got = alarms.filter(
        (a) => a.inputs["namespace"] === "AWS/Lambda" && a.inputs["metricName"] === metric,
      );
      expect(got.map((a) => a.inputs["dimensions"].FunctionName).sort()).to.deep.equal(
        FUNCTION_NAMES.map((f) => `shop-${f}-fn`).sort(),
      );
      for (const a of got) {
        expect(a.inputs).to.deep.include({
          statistic: "Sum",
          threshold: 1,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
        });
      }
    }
  });

  it("uses the thresholds it is given and no actions without a topic", async () => {
    const { alarmTopicArn: _t, ...rest } = args;
    void _t;
    const { engine: e } = await underMocks(
      "us-east-1",
      () =>
        new ServiceAlarms("custom", {
          ...rest,
          thresholds: { replicationLatencyMs: 1500, lambdaErrors: 5, alarmPeriods: 2 },
        }),
    );
    const all = e.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
    for (const a of all) expect(a.inputs["alarmActions"] ?? [], a.name).to.deep.equal([]);
    const latency = all.filter((a) => a.inputs["metricName"] === "ReplicationLatency");
    for (const a of latency)
      expect(a.inputs).to.deep.include({ threshold: 1500, evaluationPeriods: 2 });
    const errors = all.filter((a) => a.inputs["metricName"] === "Errors");
    for (const a of errors) expect(a.inputs["threshold"]).to.equal(5);
  });

  it("rejects a repeated receiving region key and a bad region", async () => {
    const repeated = {
      ...args,
      receivingRegions: [
        { key: "x", region: "us-west-2" },
        { key: "x", region: "eu-west-1" },
      ],
    };
    const failure = (a: ServiceAlarmsArgs) =>
      underMocks("us-east-1", () => new ServiceAlarms("bad", a)).then(
        () => "",
        (err: Error) => err.message,
      );
    expect(await failure(repeated)).to.match(/duplicate receiving region key in x, x/);
    expect(await failure({ ...args, region: "moon" })).to.match(
      /region must be an AWS region name such as us-east-1: got "moon"/,
    );
  });
});
