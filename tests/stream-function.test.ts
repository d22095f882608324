import { expect } from "chai";
import {
  StreamFunction,
  streamFunctionPolicy,
  validateStreamFunctionArgs,
  type StreamFunctionArgs,
} from "../components";
import { SERVICE_CODE_ROOT, SERVICE_TABLE_ENV_VARS } from "../stack/service-api";
import { json, parentTypes, refusedUnderMocks, registeredUrns, underMocks } from "./support/pulumi";
import type { MockEngine } from "./support/pulumi";

const STREAM =
  "arn:aws:dynamodb:us-west-2:000000000000:table/p-products/stream/2026-01-01T00:00:00.000";
const ARNS = {
  products: "arn:aws:dynamodb:us-west-2:000000000000:table/p-products",
  orders: "arn:aws:dynamodb:us-west-2:000000000000:table/p-orders",
};
const ARGS: StreamFunctionArgs = {
  region: "us-west-2",
  namePrefix: "p",
  codeRoot: SERVICE_CODE_ROOT,
  // Any handler module bundles; the component does not care what it does.
  entry: "functions/handlers/health.ts",
  streamArn: STREAM,
  tableArns: ARNS,
  tableNames: { products: "p-products", orders: "p-orders" },
  tableEnvVars: SERVICE_TABLE_ENV_VARS,
  access: { products: ["dynamodb:GetItem"], orders: ["dynamodb:UpdateItem", "dynamodb:GetItem"] },
  logRetentionDays: 14,
};

describe("StreamFunction", () => {
  let engine: MockEngine;

  before(async () => {
    ({ engine } = await underMocks("us-west-2", () => new StreamFunction("recon", ARGS)));
  });

  it("maps the stream with bisect on error, bounded retries and an SQS failure destination", () => {
    const [mapping, ...more] = engine.ofType("aws:lambda/eventSourceMapping:EventSourceMapping");
    expect(more).to.be.empty;
    const [queue] = engine.ofType("aws:sqs/queue:Queue");
    const [fn] = engine.ofType("aws:lambda/function:Function");
    expect(mapping!.inputs).to.deep.include({
      region: "us-west-2",
      eventSourceArn: STREAM,
      functionName: fn!.state["arn"],
      startingPosition: "TRIM_HORIZON",
      batchSize: 10,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 5,
      maximumRecordAgeInSeconds: 3600,
      destinationConfig: { onFailure: { destinationArn: queue!.state["arn"] } },
      // The reconciler answers batchItemFailures; without this Lambda would ignore them.
      functionResponseTypes: ["ReportBatchItemFailures"],
    });
  });

  it("the failure queue is encrypted and keeps records 14 days", () => {
    const queues = engine.ofType("aws:sqs/queue:Queue");
    expect(queues).to.have.length(1);
    expect(queues[0]!.inputs).to.deep.include({
      region: "us-west-2",
      name: "p-recon-failures",
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: 1_209_600,
    });
  });

  it("the role reads only its stream, the listed actions on the listed tables, and its queue", () => {
    const [policy] = engine.ofType("aws:iam/rolePolicy:RolePolicy");
    const [queue] = engine.ofType("aws:sqs/queue:Queue");
    const [logs] = engine.ofType("aws:cloudwatch/logGroup:LogGroup");
    expect(json(policy!.inputs["policy"]).Statement).to.deep.equal([
      {
        Sid: "ReadOwnStream",
        Effect: "Allow",
        Action: [
          "dynamodb:DescribeStream",
          "dynamodb:GetRecords",
          "dynamodb:GetShardIterator",
          "dynamodb:ListStreams",
        ],
        Resource: [STREAM],
      },
      {
        Sid: "Dynamoproducts",
        Effect: "Allow",
        Action: ["dynamodb:GetItem"],
        Resource: [ARNS.products],
      },
      {
        Sid: "Dynamoorders",
        Effect: "Allow",
        Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        Resource: [ARNS.orders],
      },
      {
        Sid: "SendFailedBatches",
        Effect: "Allow",
        Action: ["sqs:SendMessage"],
        Resource: [queue!.state["arn"]],
      },
      {
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [`${logs!.state["arn"]}:*`],
      },
      {
        Sid: "XRaySegments",
        Effect: "Allow",
        Action: ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
        Resource: ["*"],
      },
    ]);
    const [role] = engine.ofType("aws:iam/role:Role");
    expect(json(role!.inputs["assumeRolePolicy"]).Statement[0].Condition).to.deep.equal({
      StringEquals: { "aws:SourceAccount": "000000000000" },
    });
  });

  it("logs to its own log group with the given retention, and gets its tables' names", () => {
    const [logs] = engine.ofType("aws:cloudwatch/logGroup:LogGroup");
    expect(logs!.inputs).to.deep.include({
      region: "us-west-2",
      name: "/p/us-west-2/lambda/recon",
      retentionInDays: 14,
    });
    const [fn] = engine.ofType("aws:lambda/function:Function");
    expect(fn!.inputs["loggingConfig"]).to.deep.equal({
      logFormat: "JSON",
      logGroup: logs!.state["name"],
    });
    expect(fn!.inputs["region"]).to.equal("us-west-2");
    expect(fn!.inputs["environment"].variables).to.deep.include({
      TABLE_PRODUCTS: "p-products",
      TABLE_ORDERS: "p-orders",
    });
    expect(fn!.inputs["environment"].variables).to.not.have.property("TABLE_KV");
  });

  it("alarms on records in the failure queue and on the iterator falling behind", () => {
    const alarms = engine.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(
      alarms.map((a) => [a.name, a.inputs["metricName"], a.inputs["threshold"]]),
    ).to.deep.equal([
      ["recon-failed", "ApproximateNumberOfMessagesVisible", 0],
      ["recon-lag", "IteratorAge", 60000],
    ]);
    for (const a of alarms) expect(a.inputs["region"]).to.equal("us-west-2");
  });

  it("parents every child to the component", async () => {
    const urns = await registeredUrns();
    for (const r of engine.resources.filter(
      (x) => x.type.startsWith("aws:") && x.name.startsWith("recon"),
    )) {
      expect(parentTypes(urns, r.type, r.name), r.name).to.deep.equal([
        "resilient-dynamo:index:StreamFunction",
      ]);
    }
  });

  it("the policy refuses a table it has no ARN for", () => {
    expect(() =>
      streamFunctionPolicy({ kv: ["dynamodb:GetItem"] }, ARNS, STREAM, "arn:q", "arn:l"),
    ).to.throw(/no table ARN for kv in this region/);
  });

  const refused: [string, Partial<StreamFunctionArgs>, RegExp][] = [
    [
      "unbounded retries",
      { maximumRetryAttempts: -1 },
      /maximumRetryAttempts must be an integer from 0 to 10: got -1/,
    ],
    [
      "too many retries",
      { maximumRetryAttempts: 11 },
      /maximumRetryAttempts must be an integer from 0 to 10: got 11/,
    ],
    ["an empty batch", { batchSize: 0 }, /batchSize must be an integer from 1 to 1000/],
    ["no table access", { access: {} }, /access must name at least one table/],
    [
      "an unknown table",
      { access: { carts: ["dynamodb:GetItem"] } },
      /access names unknown table carts/,
    ],
    [
      "a wildcard action",
      { access: { orders: ["dynamodb:*"] } },
      /access.orders: "dynamodb:\*" is not one DynamoDB action/,
    ],
    ["a bad region", { region: "uswest2" }, /region must be an AWS region name/],
    [
      "a bad starting position",
      { startingPosition: "AT_TIMESTAMP" as never },
      /startingPosition must be TRIM_HORIZON or LATEST/,
    ],
  ];
  for (const [what, patch, message] of refused) {
    it(`refuses ${what}, creating nothing`, async () => {
      expect(() => validateStreamFunctionArgs({ ...ARGS, ...patch })).to.throw(message);
      const { error, engine: e } = await refusedUnderMocks(
        "us-west-2",
        () => new StreamFunction("bad", { ...ARGS, ...patch }),
      );
      expect(error.message).to.match(message);
      expect(e.resources.filter((r) => r.type.startsWith("aws:"))).to.be.empty;
    });
  }
});
