import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { LatencyMetric } from "../functions/metrics";
import { regionDimension } from "../functions/metrics";
import { TABLE_KEYS, type TableKey } from "../functions/tables";
import {
  dashboardBody,
  metricWidget,
  textWidget,
  type MetricLine,
  type Widget,
} from "./dashboard-widgets";
import { operationsByTable } from "./dynamo-operations";
import { SYNTHETICS_NAMESPACE } from "./policies";
import { METRICS_NAMESPACE } from "./regional-api";
import { assertPlain, assertRegion } from "./validate";
import { componentType, withPreviousType } from "./component-type";

/** The functions' client-observed latency metrics (functions/metrics.ts). */
export const LATENCY_METRICS: readonly LatencyMetric[] = ["ReadTime", "WriteTime"];

/** A canary shown on the dashboard. */
export interface DashboardCanary {
  /** The canary's name (its CanaryName dimension). */
  readonly name: string;
  /** Region the canary runs in (its metrics live there). */
  readonly region: string;
  /** What it checks, for the legend. */
  readonly label: string;
}

/** Everything one region's dashboard shows, resolved. */
export interface RegionalDashboardData {
  readonly region: string;
  /** Physical table names by logical table. */
  readonly tableNames: Readonly<Record<TableKey, string>>;
  /** Every other region that holds a replica (ReplicationLatency's ReceivingRegion). */
  readonly receivingRegions: readonly string[];
  /** API Gateway metrics dimensions. */
  readonly apiName: string;
  readonly stageName: string;
  /** Physical Lambda function names by logical function. */
  readonly functionNames: Readonly<Record<string, string>>;
  readonly canaries: readonly DashboardCanary[];
  /** Namespace of ReadTime/WriteTime. @default METRICS_NAMESPACE */
  readonly metricsNamespace?: string;
  /** Draw the replication alarm threshold. @default none */
  readonly replicationLatencyAlarmMs?: number;
}

/** The widgets of one region's dashboard, in display order. */
export function regionalDashboardWidgets(data: RegionalDashboardData): Widget[] {
  const region = data.region;
  const others = data.receivingRegions.filter((r) => r !== region);
  const ns = data.metricsNamespace ?? METRICS_NAMESPACE;
  const widgets: Widget[] = [
    textWidget(
      `# ${region}\nReplication toward ${others.join(", ") || "no other region"}; ` +
        `DynamoDB operations, client-observed latency, API, functions and canaries of this region.`,
    ),
  ];

  const replication: MetricLine[] = TABLE_KEYS.flatMap((t) =>
    others.map((to) => ({
      namespace: "AWS/DynamoDB",
      metricName: "ReplicationLatency",
      dimensions: { TableName: data.tableNames[t], ReceivingRegion: to },
      label: `${t} -> ${to}`,
    })),
  );
  if (replication.length) {
    widgets.push(
      metricWidget({
        title: `Replication latency from ${region} (max, ms)`,
        region,
        stat: "Maximum",
        unit: "ms",
        lines: replication,
        width: 24,
        ...(data.replicationLatencyAlarmMs !== undefined
          ? { threshold: { value: data.replicationLatencyAlarmMs, label: "alarm" } }
          : {}),
      }),
    );
  }

  const ops = operationsByTable();
  const opLines = (stat: "Average" | "SampleCount"): MetricLine[] =>
    TABLE_KEYS.flatMap((t) =>
      ops[t].map((op) => ({
        namespace: "AWS/DynamoDB",
        metricName: "SuccessfulRequestLatency",
        dimensions: { TableName: data.tableNames[t], Operation: op },
        stat,
        label: `${t} ${op}`,
      })),
    );
  widgets.push(
    metricWidget({
      title: "DynamoDB operation latency (avg, ms)",
      region,
      unit: "ms",
      lines: opLines("Average"),
    }),
    metricWidget({
      title: "DynamoDB successful requests (per minute)",
      region,
      stat: "SampleCount",
      lines: opLines("SampleCount"),
    }),
  );

  const latencyLine = (name: LatencyMetric, stat: "Average" | "p99" | "SampleCount") => ({
    namespace: ns,
    metricName: name,
    dimensions: { Region: regionDimension(region) },
    stat,
    label: `${name} ${stat === "SampleCount" ? "count" : stat}`,
  });
  widgets.push(
    metricWidget({
      title: "Client-observed latency: ReadTime / WriteTime (ms)",
      region,
      unit: "ms",
      lines: LATENCY_METRICS.flatMap((m) => [latencyLine(m, "Average"), latencyLine(m, "p99")]),
    }),
    metricWidget({
      title: "Requests (per minute)",
      region,
      stat: "Sum",
      lines: [
        {
          namespace: "AWS/ApiGateway",
          metricName: "Count",
          dimensions: { ApiName: data.apiName, Stage: data.stageName },
          stat: "Sum",
          label: "API requests",
        },
        ...LATENCY_METRICS.map((m) => latencyLine(m, "SampleCount")),
      ],
    }),
  );

  const apiDims = { ApiName: data.apiName, Stage: data.stageName };
  widgets.push(
    metricWidget({
      title: "API errors (per minute)",
      region,
      stat: "Sum",
      lines: [
        { namespace: "AWS/ApiGateway", metricName: "4XXError", dimensions: apiDims, label: "4XX" },
        { namespace: "AWS/ApiGateway", metricName: "5XXError", dimensions: apiDims, label: "5XX" },
      ],
    }),
    metricWidget({
      title: "API latency (ms)",
      region,
      unit: "ms",
      lines: [
        { namespace: "AWS/ApiGateway", metricName: "Latency", dimensions: apiDims, label: "avg" },
        {
          namespace: "AWS/ApiGateway",
          metricName: "Latency",
          dimensions: apiDims,
          stat: "p99",
          label: "p99",
        },
      ],
    }),
  );

  const fns = Object.entries(data.functionNames).sort(([a], [b]) => a.localeCompare(b));
  const fnLines = (metricName: string, stat: "Sum" | "Average"): MetricLine[] =>
    fns.map(([logical, physical]) => ({
      namespace: "AWS/Lambda",
      metricName,
      dimensions: { FunctionName: physical },
      stat,
      label: logical,
    }));
  widgets.push(
    metricWidget({
      title: "Lambda errors",
      region,
      stat: "Sum",
      lines: fnLines("Errors", "Sum"),
      width: 8,
    }),
    metricWidget({
      title: "Lambda throttles",
      region,
      stat: "Sum",
      lines: fnLines("Throttles", "Sum"),
      width: 8,
    }),
    metricWidget({
      title: "Lambda duration (avg, ms)",
      region,
      unit: "ms",
      lines: fnLines("Duration", "Average"),
      width: 8,
    }),
  );

  if (data.canaries.length) {
    const canaryLines = (metricName: string): MetricLine[] =>
      data.canaries.map((c) => ({
        namespace: SYNTHETICS_NAMESPACE,
        metricName,
        dimensions: { CanaryName: c.name },
        region: c.region,
        label: `${c.label} (from ${c.region})`,
      }));
    widgets.push(
      metricWidget({
        title: "Canary success (%)",
        region,
        unit: "%",
        lines: canaryLines("SuccessPercent"),
      }),
      metricWidget({
        title: "Canary duration (ms)",
        region,
        unit: "ms",
        lines: canaryLines("Duration"),
      }),
    );
  }
  return widgets;
}

/** What RegionalDashboard uses for each optional argument left unset. */
export const REGIONAL_DASHBOARD_DEFAULTS = {
  /** No canary widgets. */
  canaries: [],
} as const;

export interface RegionalDashboardArgs {
  /** Region the dashboard describes. Plain value. */
  region: string;
  /** Dashboard name prefix; the dashboard is `<namePrefix>-<region>`. */
  namePrefix: string;
  /** Physical table names by logical table. */
  tableNames: pulumi.Input<Record<TableKey, string>>;
  /** Every region that holds a replica, this one included or not. */
  receivingRegions: pulumi.Input<string[]>;
  /** The REST API's name and stage: the `ApiName` and `Stage` dimensions. */
  apiName: pulumi.Input<string>;
  stageName: pulumi.Input<string>;
  /** Physical Lambda function names by logical function (the legend shows the logical name). */
  functionNames: pulumi.Input<Record<string, string>>;
  /** Canaries that check this region (plain: names are known at program time). @default none */
  canaries?: DashboardCanary[];
  /** Draws the replication alarm threshold on the replication graph. @default none */
  replicationLatencyAlarmMs?: number;
}

/** One region's CloudWatch dashboard: replication, DynamoDB, client latency, API, functions, canaries. */
export class RegionalDashboard extends pulumi.ComponentResource {
  readonly dashboardName: pulumi.Output<string>;
  readonly dashboardArn: pulumi.Output<string>;

  constructor(name: string, args: RegionalDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      componentType("RegionalDashboard"),
      name,
      {},
      withPreviousType(opts, "resilient-dynamo:observability:RegionalDashboard"),
    );
    assertPlain("region", args.region);
    assertRegion("region", args.region);
    const body = pulumi
      .all([
        args.tableNames,
        args.receivingRegions,
        args.apiName,
        args.stageName,
        args.functionNames,
      ])
      .apply(([tableNames, receivingRegions, apiName, stageName, functionNames]) =>
        dashboardBody(
          regionalDashboardWidgets({
            region: args.region,
            tableNames,
            receivingRegions,
            apiName,
            stageName,
            functionNames,
            canaries: args.canaries ?? REGIONAL_DASHBOARD_DEFAULTS.canaries,
            replicationLatencyAlarmMs: args.replicationLatencyAlarmMs,
          }),
        ),
      );
    const dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        region: args.region,
        dashboardName: `${args.namePrefix}-${args.region}`,
        dashboardBody: body,
      },
      { parent: this },
    );
    this.dashboardName = dashboard.dashboardName;
    this.dashboardArn = dashboard.dashboardArn;
    this.registerOutputs({ dashboardName: this.dashboardName, dashboardArn: this.dashboardArn });
  }
}
