import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assertCodeRoot } from "./bundle";
import {
  tableAccessStatements,
  writeOwnLogsStatement,
  xraySegmentsStatement,
  type PolicyDocument,
} from "./policies";
import {
  assertTableAccess,
  commonEnvironment,
  DEFAULT_FUNCTION_MEMORY_MB,
  functionCode,
  LAMBDA_ARCHITECTURE,
  LAMBDA_RUNTIME,
  lambdaRole,
  tableEnvironment,
} from "./function-parts";
import { assertIntInRange, assertPlain, assertRegion } from "./validate";
import { componentType, withPreviousType } from "./component-type";
import { DEFAULT_LOG_RETENTION_DAYS } from "./defaults";

/** Where a new event source mapping starts reading the stream. */
export const StreamStartingPosition = {
  /** The oldest record still in the stream (24 hours): nothing written before the mapping is missed. */
  TrimHorizon: "TRIM_HORIZON",
  /** Only records written after the mapping exists. */
  Latest: "LATEST",
} as const;
export type StreamStartingPosition =
  (typeof StreamStartingPosition)[keyof typeof StreamStartingPosition];

/** Bounds of the retry and batch settings (Lambda allows retries up to 10000; we keep it short). */
export const STREAM_LIMITS = {
  maximumRetryAttempts: { min: 0, max: 10 },
  batchSize: { min: 1, max: 1000 },
  maximumRecordAgeSeconds: { min: 60, max: 604800 },
} as const;

/** SQS keeps failed-batch records this long: the longest it allows (14 days). */
export const FAILURE_RETENTION_SECONDS = 1_209_600;

/** StreamFunction's defaults: what an Args property left unset means. */
export const STREAM_FUNCTION_DEFAULTS = {
  timeoutSeconds: 30,
  memoryMb: DEFAULT_FUNCTION_MEMORY_MB,
  logRetentionDays: DEFAULT_LOG_RETENTION_DAYS,
  batchSize: 10,
  maximumRetryAttempts: 5,
  maximumRecordAgeSeconds: 3600,
  startingPosition: StreamStartingPosition.TrimHorizon,
  reportBatchItemFailures: true,
  iteratorAgeAlarmMs: 60_000,
} as const;

/** The arguments of a StreamFunction. */
export interface StreamFunctionArgs {
  /** Region of the function, its stream and its tables. Plain value. */
  region: string;
  /** Prefix of physical names (log group, queue). Plain value. */
  namePrefix: string;
  /**
   * Absolute directory `entry` is relative to; esbuild bundles there, so source map paths are
   * relative to it (typically the program's root). Plain value.
   */
  codeRoot: string;
  /** Handler module, relative to `codeRoot`; it exports `handler`. Plain value. */
  entry: string;
  /** ARN of the stream that invokes the function (this region's replica stream). */
  streamArn: pulumi.Input<string>;
  /** This region's table ARNs by table key. */
  tableArns: pulumi.Input<Record<string, string>>;
  /** Physical table names by table key (the function reads them from environment variables). */
  tableNames: pulumi.Input<Record<string, string>>;
  /**
   * The tables the function may use, by table key: the environment variable that carries the
   * table's physical name to the function when `access` names it. Plain value.
   */
  tableEnvVars: Record<string, string>;
  /**
   * Exactly the tables the function touches (keys of `tableEnvVars`) and the DynamoDB actions it
   * calls on each (`dynamodb:GetItem`, ...). Plain value.
   */
  access: Record<string, string[]>;
  /** Function timeout in seconds. @default 30 */
  timeoutSeconds?: number;
  /** Memory of the function in MB. @default 256 */
  memoryMb?: number;
  /** Retention of the function's log group, in days. @default 30 */
  logRetentionDays?: number;
  /** Customer-managed KMS key of the log group; AWS-managed encryption when unset. */
  kmsKeyArn?: pulumi.Input<string>;
  /** Records per invocation. @default 10 */
  batchSize?: number;
  /**
   * Retries of a failing batch (each retry halves it: bisect on error) before its records go to
   * the failure queue. 0-10. @default 5
   */
  maximumRetryAttempts?: number;
  /** Records older than this (seconds) go to the failure queue unprocessed. @default 3600 */
  maximumRecordAgeSeconds?: number;
  /** Where a new mapping starts reading the stream. @default TRIM_HORIZON */
  startingPosition?: StreamStartingPosition;
  /**
   * The handler answers `{ batchItemFailures: [{ itemIdentifier: <sequence number> }] }`, so a
   * retry starts at the first failed record instead of the whole batch. Without this setting
   * Lambda ignores that answer and counts the batch as done. @default true
   */
  reportBatchItemFailures?: boolean;
  /** Iterator age (Maximum, ms) above which the lag alarm fires. @default 60000 */
  iteratorAgeAlarmMs?: number;
  /** SNS topic notified on alarm and recovery. @default none */
  alarmTopicArn?: pulumi.Input<string>;
  /** Tags on every taggable child. */
  tags?: Record<string, string>;
}

/** Checks StreamFunctionArgs before any resource exists. */
export function validateStreamFunctionArgs(args: StreamFunctionArgs): void {
  for (const k of [
    "region",
    "namePrefix",
    "codeRoot",
    "entry",
    "tableEnvVars",
    "access",
    "startingPosition",
  ] as const) {
    assertPlain(k, args[k]);
  }
  assertRegion("region", args.region);
  assertCodeRoot(args.codeRoot);
  assertTableAccess(`stream function ${args.entry}`, args.access ?? {}, args.tableEnvVars ?? {});
  const { maximumRetryAttempts, batchSize, maximumRecordAgeSeconds } = STREAM_LIMITS;
  assertIntInRange(
    "maximumRetryAttempts",
    args.maximumRetryAttempts ?? STREAM_FUNCTION_DEFAULTS.maximumRetryAttempts,
    maximumRetryAttempts.min,
    maximumRetryAttempts.max,
  );
  assertIntInRange(
    "batchSize",
    args.batchSize ?? STREAM_FUNCTION_DEFAULTS.batchSize,
    batchSize.min,
    batchSize.max,
  );
  assertIntInRange(
    "maximumRecordAgeSeconds",
    args.maximumRecordAgeSeconds ?? STREAM_FUNCTION_DEFAULTS.maximumRecordAgeSeconds,
    maximumRecordAgeSeconds.min,
    maximumRecordAgeSeconds.max,
  );
  const position = args.startingPosition ?? STREAM_FUNCTION_DEFAULTS.startingPosition;
  if (!Object.values(StreamStartingPosition).includes(position)) {
    throw new Error(`startingPosition must be TRIM_HORIZON or LATEST: got ${String(position)}`);
  }
}

/**
 * The role policy of a stream function: read its one stream, the listed actions on the listed
 * tables of its region, send failed batches to its queue, write its own logs, X-Ray segments.
 */
export function streamFunctionPolicy(
  access: Readonly<Record<string, readonly string[]>>,
  tableArns: Readonly<Record<string, string>>,
  streamArn: string,
  queueArn: string,
  logGroupArn: string,
): PolicyDocument {
  const readOwnStream = {
    // AWS's own example for a stream-triggered function lists these four on the stream:
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-example-lamda-process-dynamodb-streams.html
    Sid: "ReadOwnStream",
    Effect: "Allow" as const,
    Action: [
      "dynamodb:DescribeStream",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:ListStreams",
    ],
    Resource: [streamArn],
  };
  const statements = [
    readOwnStream,
    ...tableAccessStatements(access, tableArns),
    {
      Sid: "SendFailedBatches",
      Effect: "Allow" as const,
      Action: ["sqs:SendMessage"],
      Resource: [queueArn],
    },
    writeOwnLogsStatement(logGroupArn),
    xraySegmentsStatement(),
  ];
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * A stream function's execution role and its policy (see streamFunctionPolicy): its stream, its
 * tables, its failure queue and its log group.
 */
function streamFunctionRole(
  name: string,
  args: StreamFunctionArgs,
  scope: {
    accountId: pulumi.Output<string>;
    queue: aws.sqs.Queue;
    logGroup: aws.cloudwatch.LogGroup;
  },
  owner: pulumi.ComponentResource,
): { role: aws.iam.Role; policy: aws.iam.RolePolicy } {
  const { queue, logGroup } = scope;
  const role = lambdaRole(
    `${name}-role`,
    {
      description: `${name} stream function of ${args.namePrefix} in ${args.region}`,
      accountId: scope.accountId,
      tags: args.tags,
    },
    { parent: owner },
  );
  const policy = new aws.iam.RolePolicy(
    `${name}-policy`,
    {
      role: role.name,
      policy: pulumi
        .all([pulumi.output(args.tableArns), args.streamArn, queue.arn, logGroup.arn])
        .apply(([arns, stream, queueArn, logArn]) =>
          JSON.stringify(streamFunctionPolicy(args.access, arns, stream, queueArn, logArn)),
        ),
    },
    { parent: owner },
  );
  return { role, policy };
}

/** The resources a stream function's alarms watch. */
interface StreamWatch {
  /** Physical name of the function. */
  readonly functionName: string;
  /** The function, whose iterator age the lag alarm reads. */
  readonly fn: aws.lambda.Function;
  /** The failure queue, whose visible messages the failed alarm counts. */
  readonly queue: aws.sqs.Queue;
  /** The function's log group, which the failed alarm's description points to. */
  readonly logGroup: aws.cloudwatch.LogGroup;
}

/**
 * The two alarms of a stream function: records waiting in its failure queue, and its stream
 * iterator falling behind. Returns their ARNs as `failed` and `lag`.
 */
function streamAlarms(
  name: string,
  args: StreamFunctionArgs,
  watch: StreamWatch,
  owner: pulumi.ComponentResource,
): pulumi.Output<Record<string, string>> {
  const { functionName, fn, queue, logGroup } = watch;
  const actions = args.alarmTopicArn ? [args.alarmTopicArn] : [];
  const common = {
    region: args.region,
    alarmActions: actions,
    okActions: actions,
    tags: args.tags,
  };
  const failed = new aws.cloudwatch.MetricAlarm(
    `${name}-failed`,
    {
      ...common,
      alarmDescription: pulumi.interpolate`Records of ${args.streamArn} failed ${functionName} after every retry and wait in ${queue.url}: the changes they carry were not handled. Read the messages (they name the shard and sequence numbers), fix the cause in the function's logs (${logGroup.name}), and replay them.`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: queue.name },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    },
    { parent: owner },
  );
  const lagMs = args.iteratorAgeAlarmMs ?? STREAM_FUNCTION_DEFAULTS.iteratorAgeAlarmMs;
  const lag = new aws.cloudwatch.MetricAlarm(
    `${name}-lag`,
    {
      ...common,
      alarmDescription: pulumi.interpolate`${functionName} reads its stream more than ${lagMs} ms behind for 5 minutes: the changes it handles wait. Check its errors, throttles and duration.`,
      namespace: "AWS/Lambda",
      metricName: "IteratorAge",
      dimensions: { FunctionName: fn.name },
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      threshold: lagMs,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    },
    { parent: owner },
  );
  return pulumi.all({ failed: failed.arn, lag: lag.arn });
}

/**
 * A Lambda function driven by one DynamoDB stream in its region: bundled handler, its own log
 * group with retention, a role limited to that stream, the listed table actions and its failure
 * queue, an event source mapping that bisects a failing batch, retries a bounded number of times
 * and sends what still fails to an encrypted SQS queue, and two alarms: records in the failure
 * queue, and the stream iterator falling behind.
 */
export class StreamFunction extends pulumi.ComponentResource {
  /** The function's physical name. */
  readonly functionName: pulumi.Output<string>;
  /** The function's ARN. */
  readonly functionArn: pulumi.Output<string>;
  /** The SQS queue that receives the records of batches that still fail after the retries. */
  readonly failureQueueUrl: pulumi.Output<string>;
  /** The failure queue's ARN. */
  readonly failureQueueArn: pulumi.Output<string>;
  /** The event source mapping that reads the stream. */
  readonly eventSourceMappingId: pulumi.Output<string>;
  /** Alarm ARNs: `failed` (records in the failure queue) and `lag` (iterator age). */
  readonly alarmArns: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: StreamFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      componentType("StreamFunction"),
      name,
      {},
      withPreviousType(opts, "resilient-dynamo:functions:StreamFunction"),
    );
    validateStreamFunctionArgs(args);
    const parent = { parent: this };
    const region = args.region;
    const accountId = aws.getCallerIdentityOutput({}, parent).accountId;
    const functionName = `${args.namePrefix}-${name}`.slice(0, 64);

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        region,
        name: `/${args.namePrefix}/${region}/lambda/${name}`,
        retentionInDays: args.logRetentionDays ?? STREAM_FUNCTION_DEFAULTS.logRetentionDays,
        kmsKeyId: args.kmsKeyArn,
        tags: args.tags,
      },
      parent,
    );
    const queue = new aws.sqs.Queue(
      `${name}-failures`,
      {
        region,
        name: `${functionName}-failures`.slice(0, 80),
        sqsManagedSseEnabled: true,
        messageRetentionSeconds: FAILURE_RETENTION_SECONDS,
        tags: args.tags,
      },
      parent,
    );
    const { role, policy } = streamFunctionRole(name, args, { accountId, queue, logGroup }, this);
    const fn = new aws.lambda.Function(
      name,
      {
        region,
        name: functionName,
        description: `${name} (${args.namePrefix}, ${region}), on ${args.entry}`,
        runtime: LAMBDA_RUNTIME,
        architectures: [LAMBDA_ARCHITECTURE],
        handler: "index.handler",
        role: role.arn,
        memorySize: args.memoryMb ?? STREAM_FUNCTION_DEFAULTS.memoryMb,
        timeout: args.timeoutSeconds ?? STREAM_FUNCTION_DEFAULTS.timeoutSeconds,
        code: functionCode(args.entry, args.codeRoot),
        environment: {
          variables: pulumi.output(args.tableNames).apply((names) => ({
            ...tableEnvironment(args.tableEnvVars, args.access, names, name),
            ...commonEnvironment(args.namePrefix),
          })),
        },
        loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
        tracingConfig: { mode: "Active" },
        tags: args.tags,
      },
      { parent: this, dependsOn: [policy] },
    );
    const mapping = new aws.lambda.EventSourceMapping(
      `${name}-stream`,
      {
        region,
        functionName: fn.arn,
        eventSourceArn: args.streamArn,
        startingPosition: args.startingPosition ?? STREAM_FUNCTION_DEFAULTS.startingPosition,
        batchSize: args.batchSize ?? STREAM_FUNCTION_DEFAULTS.batchSize,
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts:
          args.maximumRetryAttempts ?? STREAM_FUNCTION_DEFAULTS.maximumRetryAttempts,
        maximumRecordAgeInSeconds:
          args.maximumRecordAgeSeconds ?? STREAM_FUNCTION_DEFAULTS.maximumRecordAgeSeconds,
        destinationConfig: { onFailure: { destinationArn: queue.arn } },
        functionResponseTypes:
          (args.reportBatchItemFailures ?? STREAM_FUNCTION_DEFAULTS.reportBatchItemFailures)
            ? ["ReportBatchItemFailures"]
            : undefined,
        tags: args.tags,
      },
      // The role must be able to read the stream before Lambda validates the mapping.
      { parent: this, dependsOn: [policy] },
    );

    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.failureQueueUrl = queue.url;
    this.failureQueueArn = queue.arn;
    this.eventSourceMappingId = mapping.id;
    this.alarmArns = streamAlarms(name, args, { functionName, fn, queue, logGroup }, this);
    this.registerOutputs({
      functionName: this.functionName,
      functionArn: this.functionArn,
      failureQueueUrl: this.failureQueueUrl,
      failureQueueArn: this.failureQueueArn,
      eventSourceMappingId: this.eventSourceMappingId,
      alarmArns: this.alarmArns,
    });
  }
}
