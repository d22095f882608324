/**
 * Observability for index.ts: this region's canary and the observer canaries, the service alarms
 * (replication toward every receiving region) and the regional dashboard.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  CanaryFleet,
  RegionalDashboard,
  ServiceAlarms,
  type CanaryTarget,
  type DashboardCanary,
  type ReceivingRegion,
  type RegionalApi,
} from "resilient-dynamo";
import { kmsKeysByRegion, type StackConfig } from "./config";
import { FUNCTION_NAMES } from "../functions/routes";
import { peerView, type RegionView, type StackRefs, type TableOutputs } from "./references";
import { SERVICE_WATCHED_TABLES, serviceClientLatency, strongTableKeys } from "./service-data";
import { serviceCanaryScript } from "./service-canary";

export interface ObservabilityArgs {
  readonly config: StackConfig;
  readonly tags: Record<string, string>;
  readonly refs: StackRefs;
  /** This region first, then every peer region. */
  readonly regions: readonly RegionView[];
  readonly api: RegionalApi;
  readonly tables: TableOutputs;
}

/** What the stack exports about its canaries, dashboard and alarms. */
export interface ObservabilityOutputs {
  /** By canary region: the canary names by label, the artifact bucket and the alarm ARNs. */
  readonly canaries: Record<
    string,
    {
      names: CanaryFleet["canaryNames"];
      bucket: CanaryFleet["bucketName"];
      alarms: CanaryFleet["alarmArns"];
    }
  >;
  readonly dashboardName: pulumi.Output<string>;
  readonly alarmArns: ServiceAlarms["alarmArns"];
}

/**
 * Canaries in this region and (observerRegion) outside the app regions, reading the canary items
 * the primary stack writes unless config names other ids.
 */
function canaryFleets(args: ObservabilityArgs): CanaryFleet[] {
  const { config: cfg, tags, regions } = args;
  const self = regions[0] as RegionView;
  /**
   * The global service name, when this stack routes it to every region's custom domain: this
   * stack's own service URL (`https://<domainName>/<base path>`), which every region serves.
   */
  const routesGlobalName = cfg.routing !== "none" && cfg.domainName !== undefined;
  const kmsKeys = kmsKeysByRegion(cfg);
  const canaryCommon = {
    namePrefix: cfg.namePrefix,
    script: serviceCanaryScript({ orderId: cfg.canaryOrderId, productId: cfg.canaryProductId }),
    runtimeVersion: cfg.canaryRuntimeVersion,
    schedule: cfg.canarySchedule,
    successPercentThreshold: cfg.canarySuccessPercentThreshold,
    alarmPeriods: cfg.canaryAlarmPeriods,
    alarmTopicArn: cfg.alarmTopicArn,
    logRetentionDays: cfg.logRetentionDays,
    tags,
  };

  const fleets: CanaryFleet[] = [];
  // One canary in this region against this region's own endpoint.
  fleets.push(
    new CanaryFleet(`canaries-${cfg.region}`, {
      ...canaryCommon,
      region: cfg.region,
      kmsKeyArn: kmsKeys?.[cfg.region],
      targets: [{ label: cfg.stack, endpoint: self.invokeUrl, signingRegion: cfg.region }],
      apis: [{ executionArn: self.executionArn, stageName: self.stageName }],
    }),
  );
  // From outside the app regions: every regional endpoint, and the global name.
  const observer = cfg.observerRegion;
  if (observer) {
    const outside = (v: RegionView) =>
      v.region.apply((r) => {
        if (r === observer) {
          throw new Error(
            `resilient-dynamo:observerRegion must differ from the app regions: got ${observer}, the region of stack ${v.stack}`,
          );
        }
        return r;
      });
    const targets: CanaryTarget[] = regions.map((v) => ({
      label: `obs-${v.stack}`,
      endpoint: v.invokeUrl,
      signingRegion: outside(v),
    }));
    if (routesGlobalName) {
      targets.push({ label: "obs-global", endpoint: self.url, signingRegion: "*" });
    }
    fleets.push(
      new CanaryFleet(`canaries-observer-${observer}`, {
        ...canaryCommon,
        region: observer,
        kmsKeyArn: kmsKeys?.[observer],
        targets,
        apis: regions.map((v) => ({ executionArn: v.executionArn, stageName: v.stageName })),
      }),
    );
  }
  return fleets;
}

/**
 * The regions this region replicates to, with plain keys that name the alarms: the primary knows
 * its replica regions; a secondary learns the primary's and its peers' regions from their stacks.
 * Every replica region must be covered, or its replication would go unwatched.
 */
function receivingRegions(
  args: ObservabilityArgs,
  tableRegions: pulumi.Output<string[]>,
): ReceivingRegion[] {
  const { config: cfg, refs, regions } = args;
  if (cfg.role === "primary") return cfg.replicaRegions.map((r) => ({ key: r, region: r }));
  const stacks = [...new Set([cfg.primaryStack, ...cfg.peerStacks])];
  const views = stacks.map((s) => regions.find((v) => v.stack === s) ?? peerView(refs, s));
  const covered = pulumi
    .all([tableRegions, pulumi.all(views.map((v) => v.region))])
    .apply(([all, got]) => {
      const missing = all.filter((r) => r !== cfg.region && !got.includes(r));
      if (missing.length) {
        throw new Error(
          `replication alarms: the tables have replicas in ${missing.join(", ")}, which no stack in ` +
            `resilient-dynamo:primaryStack/peerStacks of ${cfg.stack} covers; add those regions' stacks to peerStacks`,
        );
      }
      return got;
    });
  return views.map((v, i) => ({ key: v.stack, region: covered.apply((got) => got[i] as string) }));
}

/** Builds the canaries, the service alarms and the dashboard of this region stack. */
export function observability(args: ObservabilityArgs): ObservabilityOutputs {
  const { config: cfg, tags, api, tables } = args;
  const fleets = canaryFleets(args);
  const tableRegions = tables.tableArns.apply((arns) => Object.keys(arns).sort());

  const functionNames = api.functionNames;
  const alarms = new ServiceAlarms(`alarms-${cfg.region}`, {
    region: cfg.region,
    tableNames: tables.tableNames,
    tables: SERVICE_WATCHED_TABLES,
    receivingRegions: receivingRegions(args, tableRegions),
    strongTables: strongTableKeys(cfg.consistency),
    apiName: api.apiName,
    stageName: api.stageName,
    functions: Object.fromEntries(
      FUNCTION_NAMES.map((f) => [f, functionNames.apply((n) => n[f] as string)]),
    ),
    thresholds: {
      replicationLatencyMs: cfg.replicationLatencyAlarmMs,
      replicationStalledMinutes: cfg.replicationStalledMinutes,
      api5xxRatePercent: cfg.api5xxRatePercent,
      lambdaErrors: cfg.lambdaErrorsThreshold,
      lambdaThrottles: cfg.lambdaThrottlesThreshold,
      alarmPeriods: cfg.alarmPeriods,
    },
    alarmTopicArn: cfg.alarmTopicArn,
    tags,
  });

  const dashboardCanaries: DashboardCanary[] = fleets.flatMap((f) =>
    Object.entries(f.canaryNames).map(([label, name]) => ({ name, region: f.region, label })),
  );
  const dashboard = new RegionalDashboard(`dashboard-${cfg.region}`, {
    region: cfg.region,
    namePrefix: cfg.namePrefix,
    tableNames: tables.tableNames,
    tables: SERVICE_WATCHED_TABLES,
    receivingRegions: tableRegions,
    apiName: api.apiName,
    stageName: api.stageName,
    functionNames: api.functionNames as pulumi.Output<Record<string, string>>,
    canaries: dashboardCanaries,
    replicationLatencyAlarmMs: cfg.replicationLatencyAlarmMs,
    clientLatency: serviceClientLatency(cfg.region),
  });

  return {
    canaries: Object.fromEntries(
      fleets.map((f) => [
        f.region,
        { names: f.canaryNames, bucket: f.bucketName, alarms: f.alarmArns },
      ]),
    ),
    dashboardName: dashboard.dashboardName,
    alarmArns: alarms.alarmArns,
  };
}
