/**
 * The widgets of one region's dashboard, section by section: replication, DynamoDB operations,
 * client-observed latency and requests, the API, the functions and the canaries. Pure functions
 * of resolved values (RegionalDashboard resolves its inputs first), so the tests read them.
 */
import {
  metricWidget,
  textWidget,
  type MetricLine,
  type Stat,
  type Widget,
} from "./dashboard-widgets";
import { watchedTableName, type WatchedTable } from "./dynamo-operations";
import { SYNTHETICS_NAMESPACE } from "./policies";
import type { ClientLatencyMetrics, DashboardCanary } from "./regional-dashboard";

/** Everything one region's dashboard shows, resolved. */
export interface RegionalDashboardData {
  readonly region: string;
  /** Physical table names by logical table. */
  readonly tableNames: Readonly<Record<string, string>>;
  /** The tables to graph, with the operations called on each. */
  readonly tables: readonly WatchedTable[];
  /** Every other region that holds a replica (ReplicationLatency's ReceivingRegion). */
  readonly receivingRegions: readonly string[];
  /** API Gateway metrics dimensions. */
  readonly apiName: string;
  readonly stageName: string;
  /** Physical Lambda function names by logical function. */
  readonly functionNames: Readonly<Record<string, string>>;
  readonly canaries: readonly DashboardCanary[];
  /** The service's client-observed latency metrics. @default none (no such graphs) */
  readonly clientLatency?: ClientLatencyMetrics;
  /** Draw the replication alarm threshold. @default none */
  readonly replicationLatencyAlarmMs?: number;
}

/** The widgets of one region's dashboard, in display order. */
export function regionalDashboardWidgets(data: RegionalDashboardData): Widget[] {
  const others = data.receivingRegions.filter((r) => r !== data.region);
  return [
    textWidget(
      `# ${data.region}\nReplication toward ${others.join(", ") || "no other region"}; ` +
        `DynamoDB operations, client-observed latency, API, functions and canaries of this region.`,
    ),
    ...replicationWidgets(data, others),
    ...dynamoOperationWidgets(data),
    ...clientWidgets(data),
    ...apiWidgets(data),
    ...functionWidgets(data),
    ...canaryWidgets(data),
  ];
}

/** Replication latency of every table toward every other region (none with no other region). */
function replicationWidgets(data: RegionalDashboardData, others: readonly string[]): Widget[] {
  const lines: MetricLine[] = data.tables.flatMap((t) =>
    others.map((to) => ({
      namespace: "AWS/DynamoDB",
      metricName: "ReplicationLatency",
      dimensions: { TableName: watchedTableName(data.tableNames, t.key), ReceivingRegion: to },
      label: `${t.key} -> ${to}`,
    })),
  );
  if (!lines.length) return [];
  return [
    metricWidget({
      title: `Replication latency from ${data.region} (max, ms)`,
      region: data.region,
      stat: "Maximum",
      unit: "ms",
      lines,
      width: 24,
      ...(data.replicationLatencyAlarmMs !== undefined
        ? { threshold: { value: data.replicationLatencyAlarmMs, label: "alarm" } }
        : {}),
    }),
  ];
}

/** Latency and count of every operation called on every table. */
function dynamoOperationWidgets(data: RegionalDashboardData): Widget[] {
  const opLines = (stat: "Average" | "SampleCount"): MetricLine[] =>
    data.tables.flatMap((t) =>
      t.operations.map((op) => ({
        namespace: "AWS/DynamoDB",
        metricName: "SuccessfulRequestLatency",
        dimensions: { TableName: watchedTableName(data.tableNames, t.key), Operation: op },
        stat,
        label: `${t.key} ${op}`,
      })),
    );
  return [
    metricWidget({
      title: "DynamoDB operation latency (avg, ms)",
      region: data.region,
      unit: "ms",
      lines: opLines("Average"),
    }),
    metricWidget({
      title: "DynamoDB successful requests (per minute)",
      region: data.region,
      stat: "SampleCount",
      lines: opLines("SampleCount"),
    }),
  ];
}

/** Lines of every client latency metric, each with every stat in `stats` (none without metrics). */
function clientLatencyLines(
  client: ClientLatencyMetrics | undefined,
  stats: readonly ("Average" | "p99" | "SampleCount")[],
): MetricLine[] {
  if (!client) return [];
  return client.metricNames.flatMap((name) =>
    stats.map((stat) => ({
      namespace: client.namespace,
      metricName: name,
      dimensions: client.dimensions,
      stat,
      label: `${name} ${stat === "SampleCount" ? "count" : stat}`,
    })),
  );
}

/**
 * The client-observed latency (when the service publishes it) and the requests per minute: the
 * API's, and the count of each latency metric.
 */
function clientWidgets(data: RegionalDashboardData): Widget[] {
  const client = data.clientLatency;
  const latency = client?.metricNames.length
    ? [
        metricWidget({
          title: `Client-observed latency: ${client.metricNames.join(" / ")} (ms)`,
          region: data.region,
          unit: "ms",
          lines: clientLatencyLines(client, ["Average", "p99"]),
        }),
      ]
    : [];
  return [
    ...latency,
    metricWidget({
      title: "Requests (per minute)",
      region: data.region,
      stat: "Sum",
      lines: [
        {
          namespace: "AWS/ApiGateway",
          metricName: "Count",
          dimensions: { ApiName: data.apiName, Stage: data.stageName },
          stat: "Sum",
          label: "API requests",
        },
        ...clientLatencyLines(client, ["SampleCount"]),
      ],
    }),
  ];
}

/** The API's 4XX and 5XX per minute, and its latency. */
function apiWidgets(data: RegionalDashboardData): Widget[] {
  const apiDims = { ApiName: data.apiName, Stage: data.stageName };
  return [
    metricWidget({
      title: "API errors (per minute)",
      region: data.region,
      stat: "Sum",
      lines: [
        { namespace: "AWS/ApiGateway", metricName: "4XXError", dimensions: apiDims, label: "4XX" },
        { namespace: "AWS/ApiGateway", metricName: "5XXError", dimensions: apiDims, label: "5XX" },
      ],
    }),
    metricWidget({
      title: "API latency (ms)",
      region: data.region,
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
  ];
}

/** Errors, throttles and duration of every function, side by side. */
function functionWidgets(data: RegionalDashboardData): Widget[] {
  const fns = Object.entries(data.functionNames).sort(([a], [b]) => a.localeCompare(b));
  const fnWidget = (title: string, metricName: string, stat: Stat, unit?: string) =>
    metricWidget({
      title,
      region: data.region,
      ...(unit ? { unit } : { stat }),
      lines: fns.map(([logical, physical]) => ({
        namespace: "AWS/Lambda",
        metricName,
        dimensions: { FunctionName: physical },
        stat,
        label: logical,
      })),
      width: 8,
    });
  return [
    fnWidget("Lambda errors", "Errors", "Sum"),
    fnWidget("Lambda throttles", "Throttles", "Sum"),
    fnWidget("Lambda duration (avg, ms)", "Duration", "Average", "ms"),
  ];
}

/** Success and duration of every canary, each in the canary's own region (none: no widgets). */
function canaryWidgets(data: RegionalDashboardData): Widget[] {
  if (!data.canaries.length) return [];
  const canaryLines = (metricName: string): MetricLine[] =>
    data.canaries.map((c) => ({
      namespace: SYNTHETICS_NAMESPACE,
      metricName,
      dimensions: { CanaryName: c.name },
      region: c.region,
      label: `${c.label} (from ${c.region})`,
    }));
  return [
    metricWidget({
      title: "Canary success (%)",
      region: data.region,
      unit: "%",
      lines: canaryLines("SuccessPercent"),
    }),
    metricWidget({
      title: "Canary duration (ms)",
      region: data.region,
      unit: "ms",
      lines: canaryLines("Duration"),
    }),
  ];
}
