import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  validateWatchedTables,
  watchedTableName,
  type DynamoOperation,
  type WatchedTable,
} from "./dynamo-operations";
import { assertIntInRange, assertPlain, assertRegion } from "./validate";
import { componentType, withPreviousType } from "./component-type";

/** Alarm thresholds; each one left unset takes its SERVICE_ALARMS_DEFAULTS.thresholds value. */
export interface AlarmThresholds {
  /** Replication latency (Maximum, ms) above which a table's replication alarms. */
  replicationLatencyMs?: number;
  /** Minutes of writes in this region with no replication reported before "stalled" alarms. */
  replicationStalledMinutes?: number;
  /** Share of API requests answered 5XX (percent) above which the API alarms. */
  api5xxRatePercent?: number;
  /** Lambda errors per minute at or above which a function alarms. */
  lambdaErrors?: number;
  /** Lambda throttles per minute at or above which a function alarms. */
  lambdaThrottles?: number;
  /** Consecutive one-minute periods over a threshold before an alarm fires. */
  alarmPeriods?: number;
}

/** Every threshold, defaults applied. */
export type ResolvedAlarmThresholds = Required<AlarmThresholds>;

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
export function resolveThresholds(given: AlarmThresholds = {}): ResolvedAlarmThresholds {
  const known = Object.keys(SERVICE_ALARMS_DEFAULTS.thresholds);
  const unknown = Object.keys(given).filter((k) => !known.includes(k));
  if (unknown.length) {
    throw new Error(
      `thresholds has no ${unknown.join(", ")}: the thresholds are ${known.join(", ")}`,
    );
  }
  const set = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const t: ResolvedAlarmThresholds = { ...SERVICE_ALARMS_DEFAULTS.thresholds, ...set };
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
  /** The region's name: the `ReceivingRegion` dimension of ReplicationLatency. */
  region: pulumi.Input<string>;
}

/** Arguments of ServiceAlarms. */
export interface ServiceAlarmsArgs {
  /** Region of the alarms and of what they watch. Plain value. */
  region: string;
  /** Physical table names by logical table (every key of `tables`). */
  tableNames: pulumi.Input<Record<string, string>>;
  /**
   * The tables to alarm on (the logical names, plain, name the alarms), with the operations that
   * write them from this region: the stalled-replication alarm counts those. Plain value.
   */
  tables: WatchedTable[];
  /** Every other region with a replica of the tables. */
  receivingRegions: ReceivingRegion[];
  /**
   * Tables replicated synchronously (MRSC): a write reaches a majority or fails, so they report
   * no replication latency to alarm on and get no replication or stalled alarms; their failures
   * show as the API's 5XX. @default none (every table is eventual)
   */
  strongTables?: string[];
  /** The REST API's name: the `ApiName` dimension. */
  apiName: pulumi.Input<string>;
  /** The REST API's stage: the `Stage` dimension. */
  stageName: pulumi.Input<string>;
  /** Physical function names by logical name; the logical names (plain) name the alarms. */
  functions: Record<string, pulumi.Input<string>>;
  /** Thresholds; each missing one takes its SERVICE_ALARMS_DEFAULTS.thresholds value. */
  thresholds?: AlarmThresholds;
  /** SNS topic notified on alarm and recovery. @default none */
  alarmTopicArn?: pulumi.Input<string>;
  /** Tags on every alarm. @default none */
  tags?: Record<string, string>;
}

const PERIOD = 60;

/** What every alarm of one ServiceAlarms shares. */
interface AlarmContext {
  /** The component: every alarm's parent. */
  readonly parent: pulumi.Resource;
  /** The component's name: every alarm's name starts with it. */
  readonly name: string;
  readonly region: string;
  readonly t: ResolvedAlarmThresholds;
  /** Inputs every alarm has: region, actions and tags. */
  readonly common: {
    region: string;
    alarmActions: pulumi.Input<string>[];
    okActions: pulumi.Input<string>[];
    tags?: Record<string, string>;
  };
}

/** Checks the plain arguments that decide which alarms exist. */
function validateServiceAlarmsArgs(args: ServiceAlarmsArgs): void {
  assertPlain("region", args.region);
  assertRegion("region", args.region);
  assertPlain("tables", args.tables);
  validateWatchedTables("tables", args.tables);
  assertPlain("receivingRegions", args.receivingRegions);
  const keys = args.receivingRegions.map((r) => r.key);
  if (new Set(keys).size !== keys.length) {
    throw new Error(`duplicate receiving region key in ${keys.join(", ")}`);
  }
  assertPlain("strongTables", args.strongTables);
  const tableKeys = args.tables.map((t) => t.key);
  const strongTables: readonly string[] = args.strongTables ?? SERVICE_ALARMS_DEFAULTS.strongTables;
  const stray = strongTables.filter((k) => !tableKeys.includes(k));
  if (stray.length) {
    throw new Error(
      `strongTables names ${stray.join(", ")}, not in tables (${tableKeys.join(", ")})`,
    );
  }
}

/** Replication of `table` toward `to` took longer than the threshold for alarmPeriods minutes. */
function replicationLatencyAlarm(
  c: AlarmContext,
  key: string,
  tableName: pulumi.Output<string>,
  to: ReceivingRegion,
): pulumi.Output<string> {
  const { t, region } = c;
  return new aws.cloudwatch.MetricAlarm(
    `${c.name}-replication-${key}`,
    {
      ...c.common,
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
    { parent: c.parent },
  ).arn;
}

/**
 * DynamoDB reports ReplicationLatency only while items replicate, so silence alone is normal for
 * an idle table. Stalled = this region wrote to the table (one of `writeOps`) in a minute and no
 * replication latency toward `to` was reported for it, for replicationStalledMinutes minutes.
 */
function stalledReplicationAlarm(
  c: AlarmContext,
  key: string,
  tableName: pulumi.Output<string>,
  to: ReceivingRegion,
  writeOps: DynamoOperation[],
): pulumi.Output<string> {
  const { t, region } = c;
  const writeIds = writeOps.map((_, i) => `w${i}`);
  return new aws.cloudwatch.MetricAlarm(
    `${c.name}-stalled-${key}`,
    {
      ...c.common,
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
    { parent: c.parent },
  ).arn;
}

/** Latency and stalled alarms for every eventual table toward every receiving region. */
function replicationAlarms(
  c: AlarmContext,
  args: ServiceAlarmsArgs,
): Record<string, pulumi.Output<string>> {
  const arns: Record<string, pulumi.Output<string>> = {};
  const tableNames = pulumi.output(args.tableNames);
  const strong = new Set<string>(args.strongTables ?? SERVICE_ALARMS_DEFAULTS.strongTables);
  for (const table of args.tables.filter((tb) => !strong.has(tb.key))) {
    const tableName = tableNames.apply((n) => watchedTableName(n, table.key));
    for (const to of args.receivingRegions) {
      const key = `${table.key}-${to.key}`;
      arns[`replication-${key}`] = replicationLatencyAlarm(c, key, tableName, to);
      if (table.writeOperations.length === 0) continue;
      arns[`stalled-${key}`] = stalledReplicationAlarm(
        c,
        key,
        tableName,
        to,
        table.writeOperations,
      );
    }
  }
  return arns;
}

/** More than api5xxRatePercent of the API's requests answered 5XX for alarmPeriods minutes. */
function api5xxRateAlarm(c: AlarmContext, args: ServiceAlarmsArgs): pulumi.Output<string> {
  const { t, region } = c;
  const apiDims = { ApiName: args.apiName, Stage: args.stageName };
  const apiMetric = (id: string, metricName: string) => ({
    id,
    metric: {
      namespace: "AWS/ApiGateway",
      metricName,
      dimensions: apiDims,
      stat: "Sum",
      period: PERIOD,
    },
  });
  return new aws.cloudwatch.MetricAlarm(
    `${c.name}-api-5xx-rate`,
    {
      ...c.common,
      alarmDescription: pulumi.interpolate`More than ${t.api5xxRatePercent}% of requests to ${args.apiName} (${args.stageName}, ${region}) failed with 5XX for ${t.alarmPeriods} minutes: clients of this region see errors. Look at the Lambda errors and the DynamoDB widgets of the ${region} dashboard; if ${region} is unhealthy, fail over.`,
      metricQueries: [
        apiMetric("errors", "5XXError"),
        apiMetric("requests", "Count"),
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
    { parent: c.parent },
  ).arn;
}

/** Errors and throttles of every function, each at or over its threshold for alarmPeriods minutes. */
function functionAlarms(
  c: AlarmContext,
  functions: Record<string, pulumi.Input<string>>,
): Record<string, pulumi.Output<string>> {
  const { t, region } = c;
  const arns: Record<string, pulumi.Output<string>> = {};
  for (const [fn, physical] of Object.entries(functions).sort(([a], [b]) => a.localeCompare(b))) {
    for (const [metric, threshold, meaning] of [
      ["Errors", t.lambdaErrors, "invocations failed (unhandled errors or timeouts)"],
      ["Throttles", t.lambdaThrottles, "invocations were throttled (concurrency limit reached)"],
    ] as const) {
      const key = `lambda-${metric.toLowerCase()}-${fn}`;
      arns[key] = new aws.cloudwatch.MetricAlarm(
        `${c.name}-${key}`,
        {
          ...c.common,
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
        { parent: c.parent },
      ).arn;
    }
  }
  return arns;
}

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
    validateServiceAlarmsArgs(args);
    const actions = args.alarmTopicArn ? [args.alarmTopicArn] : [];
    const c: AlarmContext = {
      parent: this,
      name,
      region: args.region,
      t: resolveThresholds(args.thresholds),
      common: { region: args.region, alarmActions: actions, okActions: actions, tags: args.tags },
    };
    const arns: Record<string, pulumi.Output<string>> = {
      ...replicationAlarms(c, args),
      "api-5xx-rate": api5xxRateAlarm(c, args),
      ...functionAlarms(c, args.functions),
    };
    this.alarmArns = pulumi.output(arns);
    this.registerOutputs({ alarmArns: this.alarmArns });
  }
}
