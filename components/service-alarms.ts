import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { TABLE_KEYS, type TableKey } from "../functions/tables";
import { writeOperationsByTable } from "./dynamo-operations";
import { assertIntInRange, assertPlain, assertRegion } from "./validate";
import { componentType, withPreviousType } from "./component-type";

/** Alarm thresholds; every field has a default (SERVICE_ALARMS_DEFAULTS.thresholds). */
export interface AlarmThresholds {
  /** Replication latency (Maximum, ms) above which a table's replication alarms. */
  replicationLatencyMs: number;
  /** Minutes of writes in this region with no replication reported before "stalled" alarms. */
  replicationStalledMinutes: number;
  /** Share of API requests answered 5XX (percent) above which the API alarms. */
  api5xxRatePercent: number;
  /** Lambda errors per minute at or above which a function alarms. */
  lambdaErrors: number;
  /** Lambda throttles per minute at or above which a function alarms. */
  lambdaThrottles: number;
  /** Consecutive one-minute periods over a threshold before an alarm fires. */
  alarmPeriods: number;
}

/** What ServiceAlarms uses for each optional argument (and each threshold) left unset. */
export const SERVICE_ALARMS_DEFAULTS = {
  thresholds: {
    replicationLatencyMs: 5000,
    replicationStalledMinutes: 5,
    api5xxRatePercent: 5,
    lambdaErrors: 1,
    lambdaThrottles: 1,
    alarmPeriods: 3,
  },
  /** Every table is eventual. */
  strongTables: [],
} as const;

/** Checks thresholds; returns them with defaults applied. */
export function resolveThresholds(partial: Partial<AlarmThresholds> = {}): AlarmThresholds {
  const t: AlarmThresholds = { ...SERVICE_ALARMS_DEFAULTS.thresholds, ...partial };
  if (!(t.replicationLatencyMs > 0)) {
    throw new Error(`replicationLatencyMs must be above 0: got ${t.replicationLatencyMs}`);
  }
  assertIntInRange("replicationStalledMinutes", t.replicationStalledMinutes, 1, 1440);
  if (!(t.api5xxRatePercent > 0 && t.api5xxRatePercent <= 100)) {
    throw new Error(`api5xxRatePercent must be in (0, 100]: got ${t.api5xxRatePercent}`);
  }
  assertIntInRange("lambdaErrors", t.lambdaErrors, 1, 1_000_000);
  assertIntInRange("lambdaThrottles", t.lambdaThrottles, 1, 1_000_000);
  assertIntInRange("alarmPeriods", t.alarmPeriods, 1, 1440);
  return t;
}

/** A region that receives this region's replication. */
export interface ReceivingRegion {
  /** Plain key that names the alarms (a region name or a stack name). */
  key: string;
  region: pulumi.Input<string>;
}

export interface ServiceAlarmsArgs {
  /** Region of the alarms and of what they watch. Plain value. */
  region: string;
  /** Physical table names by logical table (the logical names, plain, name the alarms). */
  tableNames: pulumi.Input<Record<TableKey, string>>;
  /** Every other region with a replica of the tables. */
  receivingRegions: ReceivingRegion[];
  /**
   * Tables replicated synchronously (MRSC): a write reaches a majority or fails, so they report
   * no replication latency to alarm on and get no replication or stalled alarms; their failures
   * show as the API's 5XX. @default none (every table is eventual)
   */
  strongTables?: TableKey[];
  /** The REST API's name and stage: the `ApiName` and `Stage` dimensions. */
  apiName: pulumi.Input<string>;
  stageName: pulumi.Input<string>;
  /** Physical function names by logical name; the logical names (plain) name the alarms. */
  functions: Record<string, pulumi.Input<string>>;
  /** Thresholds; each missing one takes its SERVICE_ALARMS_DEFAULTS.thresholds value. */
  thresholds?: Partial<AlarmThresholds>;
  /** SNS topic notified on alarm and recovery. @default none */
  alarmTopicArn?: pulumi.Input<string>;
  tags?: Record<string, string>;
}

const PERIOD = 60;

/**
 * The service's alarms in one region: replication latency per table and receiving region, a
 * stalled-replication alarm per table and receiving region, the API's 5XX rate, and errors and
 * throttles per function.
 */
export class ServiceAlarms extends pulumi.ComponentResource {
  /** Alarm ARNs by a readable key (`replication-orders-us-west-2`, `lambda-errors-fill`, ...). */
  readonly alarmArns: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: ServiceAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      componentType("ServiceAlarms"),
      name,
      {},
      withPreviousType(opts, "resilient-dynamo:observability:ServiceAlarms"),
    );
    assertPlain("region", args.region);
    assertRegion("region", args.region);
    assertPlain("receivingRegions", args.receivingRegions);
    const keys = args.receivingRegions.map((r) => r.key);
    if (new Set(keys).size !== keys.length) {
      throw new Error(`duplicate receiving region key in ${keys.join(", ")}`);
    }
    const t = resolveThresholds(args.thresholds);
    const region = args.region;
    const actions = args.alarmTopicArn ? [args.alarmTopicArn] : [];
    const common = {
      region,
      alarmActions: actions,
      okActions: actions,
      tags: args.tags,
    };
    const tableNames = pulumi.output(args.tableNames);
    const arns: Record<string, pulumi.Output<string>> = {};
    const writes = writeOperationsByTable();

    const strong = new Set<string>(args.strongTables ?? SERVICE_ALARMS_DEFAULTS.strongTables);
    for (const table of TABLE_KEYS.filter((k) => !strong.has(k))) {
      const tableName = tableNames.apply((n) => n[table]);
      for (const to of args.receivingRegions) {
        const key = `${table}-${to.key}`;
        arns[`replication-${key}`] = new aws.cloudwatch.MetricAlarm(
          `${name}-replication-${key}`,
          {
            ...common,
            alarmDescription: pulumi.interpolate`Replication of ${tableName} from ${region} to ${to.region} took over ${t.replicationLatencyMs} ms (maximum) for ${t.alarmPeriods} minutes: writes made in ${region} reach ${to.region} late, so a failover now would lose them (RPO). Check DynamoDB's service health for both regions and the table's write throttling.`,
            namespace: "AWS/DynamoDB",
            metricName: "ReplicationLatency",
            dimensions: { TableName: tableName, ReceivingRegion: to.region },
            statistic: "Maximum",
            period: PERIOD,
            evaluationPeriods: t.alarmPeriods,
            datapointsToAlarm: t.alarmPeriods,
            threshold: t.replicationLatencyMs,
            comparisonOperator: "GreaterThanThreshold",
            // No data means nothing was written; the stalled alarm covers silence under writes.
            treatMissingData: "notBreaching",
          },
          { parent: this },
        ).arn;

        // DynamoDB reports ReplicationLatency only while items replicate, so silence alone is
        // normal for an idle table. Stalled = this region wrote to the table in a minute and no
        // replication latency was reported for it.
        const writeOps = writes[table];
        if (writeOps.length === 0) continue;
        const writeIds = writeOps.map((_, i) => `w${i}`);
        arns[`stalled-${key}`] = new aws.cloudwatch.MetricAlarm(
          `${name}-stalled-${key}`,
          {
            ...common,
            alarmDescription: pulumi.interpolate`Writes to ${tableName} in ${region} reported no replication to ${to.region} for ${t.replicationStalledMinutes} minutes: replication is stalled and ${to.region} serves stale data. Check the replica's status in the DynamoDB console (global tables tab) and AWS Health; consider routing writes away from ${region}.`,
            metricQueries: [
              ...writeOps.map((op, i) => ({
                id: writeIds[i] as string,
                metric: {
                  namespace: "AWS/DynamoDB",
                  metricName: "SuccessfulRequestLatency",
                  dimensions: { TableName: tableName, Operation: op },
                  stat: "SampleCount",
                  period: PERIOD,
                },
              })),
              {
                id: "lat",
                metric: {
                  namespace: "AWS/DynamoDB",
                  metricName: "ReplicationLatency",
                  dimensions: { TableName: tableName, ReceivingRegion: to.region },
                  stat: "SampleCount",
                  period: PERIOD,
                },
              },
              {
                id: "stalled",
                expression: `IF((${writeIds.map((id) => `FILL(${id}, 0)`).join(" + ")}) > 0 AND FILL(lat, 0) == 0, 1, 0)`,
                label: "minutes with writes but no replication",
                returnData: true,
              },
            ],
            evaluationPeriods: t.replicationStalledMinutes,
            datapointsToAlarm: t.replicationStalledMinutes,
            threshold: 1,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            // Missing data means no writes and no replication: idle, not stalled.
            treatMissingData: "notBreaching",
          },
          { parent: this },
        ).arn;
      }
    }

    const apiDims = { ApiName: args.apiName, Stage: args.stageName };
    arns["api-5xx-rate"] = new aws.cloudwatch.MetricAlarm(
      `${name}-api-5xx-rate`,
      {
        ...common,
        alarmDescription: pulumi.interpolate`More than ${t.api5xxRatePercent}% of requests to ${args.apiName} (${args.stageName}, ${region}) failed with 5XX for ${t.alarmPeriods} minutes: clients of this region see errors. Look at the Lambda errors and the DynamoDB widgets of the ${region} dashboard; if ${region} is unhealthy, fail over.`,
        metricQueries: [
          {
            id: "errors",
            metric: {
              namespace: "AWS/ApiGateway",
              metricName: "5XXError",
              dimensions: apiDims,
              stat: "Sum",
              period: PERIOD,
            },
          },
          {
            id: "requests",
            metric: {
              namespace: "AWS/ApiGateway",
              metricName: "Count",
              dimensions: apiDims,
              stat: "Sum",
              period: PERIOD,
            },
          },
          {
            id: "rate",
            expression: "IF(requests > 0, 100 * errors / requests, 0)",
            label: "5XX rate (%)",
            returnData: true,
          },
        ],
        evaluationPeriods: t.alarmPeriods,
        datapointsToAlarm: t.alarmPeriods,
        threshold: t.api5xxRatePercent,
        comparisonOperator: "GreaterThanThreshold",
        // No requests, no errors.
        treatMissingData: "notBreaching",
      },
      { parent: this },
    ).arn;

    for (const [fn, physical] of Object.entries(args.functions).sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      for (const [metric, threshold, meaning] of [
        ["Errors", t.lambdaErrors, "invocations failed (unhandled errors or timeouts)"],
        ["Throttles", t.lambdaThrottles, "invocations were throttled (concurrency limit reached)"],
      ] as const) {
        const key = `lambda-${metric.toLowerCase()}-${fn}`;
        arns[key] = new aws.cloudwatch.MetricAlarm(
          `${name}-${key}`,
          {
            ...common,
            alarmDescription: pulumi.interpolate`${threshold} or more ${fn} (${physical}) ${meaning} per minute for ${t.alarmPeriods} minutes in ${region}. Read the function's log group for the errors; for throttles, check the account's concurrency in ${region}.`,
            namespace: "AWS/Lambda",
            metricName: metric,
            dimensions: { FunctionName: physical },
            statistic: "Sum",
            period: PERIOD,
            evaluationPeriods: t.alarmPeriods,
            datapointsToAlarm: t.alarmPeriods,
            threshold,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            // No invocations, no errors.
            treatMissingData: "notBreaching",
          },
          { parent: this },
        ).arn;
      }
    }

    this.alarmArns = pulumi.output(arns);
    this.registerOutputs({ alarmArns: this.alarmArns });
  }
}
