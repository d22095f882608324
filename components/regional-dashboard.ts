import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { dashboardBody } from "./dashboard-widgets";
import { validateWatchedTables, type WatchedTable } from "./dynamo-operations";
import { regionalDashboardWidgets } from "./regional-dashboard-widgets";
import { assertPlain, assertRegion } from "./validate";
import { componentType, withPreviousType } from "./component-type";

/** A canary shown on the dashboard. */
export interface DashboardCanary {
  /** The canary's name (its CanaryName dimension). */
  readonly name: string;
  /** Region the canary runs in (its metrics live there). */
  readonly region: string;
  /** What it checks, for the legend. */
  readonly label: string;
}

/**
 * Latency metrics (milliseconds) the service's own code publishes, e.g. the time its functions
 * spend in DynamoDB calls as their clients see it.
 */
export interface ClientLatencyMetrics {
  /** CloudWatch namespace of the metrics. */
  namespace: string;
  /** Names of the metrics, each graphed as average and p99, and counted per minute. */
  metricNames: string[];
  /** Dimensions of the metrics as published in the dashboard's region. */
  dimensions: Record<string, string>;
}

/** What RegionalDashboard uses for each optional argument left unset. */
export const REGIONAL_DASHBOARD_DEFAULTS = {
  /** No canary widgets. */
  canaries: [],
} as const;

/** Arguments of RegionalDashboard. */
export interface RegionalDashboardArgs {
  /** Region the dashboard describes. Plain value. */
  region: string;
  /** Dashboard name prefix; the dashboard is `<namePrefix>-<region>`. */
  namePrefix: string;
  /** Physical table names by logical table (every key of `tables`). */
  tableNames: pulumi.Input<Record<string, string>>;
  /** The tables to graph, with the operations called on each (the legend shows the key). Plain value. */
  tables: WatchedTable[];
  /** Every region that holds a replica, this one included or not. */
  receivingRegions: pulumi.Input<string[]>;
  /** The REST API's name: the `ApiName` dimension. */
  apiName: pulumi.Input<string>;
  /** The REST API's stage: the `Stage` dimension. */
  stageName: pulumi.Input<string>;
  /** Physical Lambda function names by logical function (the legend shows the logical name). */
  functionNames: pulumi.Input<Record<string, string>>;
  /** Canaries that check this region (plain: names are known at program time). @default none */
  canaries?: DashboardCanary[];
  /** Draws the replication alarm threshold on the replication graph. @default none */
  replicationLatencyAlarmMs?: number;
  /**
   * Latency metrics the service's own code publishes in this region: graphed as average and p99,
   * and counted next to the API's requests. @default none (no client latency graph)
   */
  clientLatency?: ClientLatencyMetrics;
}

/** One region's CloudWatch dashboard: replication, DynamoDB, client latency, API, functions, canaries. */
export class RegionalDashboard extends pulumi.ComponentResource {
  /** The dashboard's name: `<namePrefix>-<region>`. */
  readonly dashboardName: pulumi.Output<string>;
  /** The dashboard's ARN. */
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
    assertPlain("tables", args.tables);
    validateWatchedTables("tables", args.tables);
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
            tables: args.tables,
            receivingRegions,
            apiName,
            stageName,
            functionNames,
            canaries: args.canaries ?? REGIONAL_DASHBOARD_DEFAULTS.canaries,
            replicationLatencyAlarmMs: args.replicationLatencyAlarmMs,
            clientLatency: args.clientLatency,
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
