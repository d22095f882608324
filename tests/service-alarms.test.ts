import { expect } from "chai";
import {
  SERVICE_ALARMS_DEFAULTS,
  ServiceAlarms,
  resolveThresholds,
  type AlarmThresholds,
  type ServiceAlarmsArgs,
} from "../components";
import { FUNCTION_NAMES } from "../functions/routes";
import { TABLES, TABLE_KEYS, type TableKey } from "../functions/tables";
import { SERVICE_WATCHED_TABLES } from "../stack/service-data";
import { underMocks, type MockEngine, type RecordedResource } from "./support/pulumi";

const TOPIC = "arn:aws:sns:us-east-1:000000000000:oncall";
const tableNames = Object.fromEntries(TABLES.map((t) => [t.key, `shop-${t.key}`])) as Record<
  TableKey,
  string
>;
const args: ServiceAlarmsArgs = {
  region: "us-east-1",
  tableNames,
  tables: SERVICE_WATCHED_TABLES,
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
    [
      { replicationLatency: 100 } as AlarmThresholds,
      /thresholds has no replicationLatency: the thresholds are replicationLatencyMs, /,
    ],
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
    const writes = Object.fromEntries(
      SERVICE_WATCHED_TABLES.map((t) => [t.key, t.writeOperations]),
    );
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

  it("alarms on another service's tables: replication and stalled alarms for one sessions table", async () => {
    const { engine: e } = await underMocks(
      "eu-west-1",
      () =>
        new ServiceAlarms("acme", {
          region: "eu-west-1",
          tableNames: { sessions: "acme-sessions" },
          tables: [
            { key: "sessions", operations: ["GetItem", "PutItem"], writeOperations: ["PutItem"] },
          ],
          receivingRegions: [{ key: "eu-central-1", region: "eu-central-1" }],
          apiName: "acme-api",
          stageName: "v1",
          functions: { login: "acme-login" },
        }),
    );
    const names = e.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.name);
    expect(names.sort()).to.deep.equal(
      [
        "acme-api-5xx-rate",
        "acme-lambda-errors-login",
        "acme-lambda-throttles-login",
        "acme-replication-sessions-eu-central-1",
        "acme-stalled-sessions-eu-central-1",
      ].sort(),
    );
    const stalled = e
      .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
      .find((a) => a.name.includes("stalled"));
    expect(
      (stalled?.inputs["metricQueries"] as any[])
        .filter((q) => q.id.startsWith("w"))
        .map((q) => q.metric.dimensions),
    ).to.deep.equal([{ TableName: "acme-sessions", Operation: "PutItem" }]);
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
    expect(await failure({ ...args, tables: [] })).to.match(
      /^tables must list at least one table \(key, operations, writeOperations\): got \[\]/,
    );
    expect(await failure({ ...args, strongTables: ["carts"] })).to.match(
      /strongTables names carts, not in tables \(customers, products, orders, kv\)/,
    );
    const kv = { key: "kv", operations: ["GetItem" as const], writeOperations: [] };
    expect(
      await failure({ ...args, tables: [{ ...kv, operations: ["Delete" as never] }] }),
    ).to.match(/tables: table kv operations has "Delete", not one of GetItem, /);
    expect(
      await failure({ ...args, tables: [{ ...kv, writeOperations: ["GetItem" as const] }] }),
    ).to.match(/tables: table kv writeOperations has GetItem, which is not a writing operation/);
    expect(await failure({ ...args, tables: [kv, kv] })).to.match(/tables: duplicate table kv/);
    expect(await failure({ ...args, region: "moon" })).to.match(
      /region must be an AWS region name such as us-east-1: got "moon"/,
    );
  });
});
