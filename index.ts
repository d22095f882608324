/**
 * Composition only: read the stack's typed config, build the components, export what other
 * stacks and operators need. Which parts a stack owns follows from config (`role`), never from
 * the stack's name.
 */
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import {
  ArcControlPlane,
  CanaryFleet,
  DEFAULT_BASE_PATH,
  FailoverDns,
  GlobalTableSet,
  RegionalApi,
  RegionalDashboard,
  ServiceAlarms,
  type CanaryTarget,
  type DashboardCanary,
  type DnsRegionArgs,
  type ReceivingRegion,
  type RegionalTableMap,
} from "./components";
import { loadStackConfig, qualifyStackName, type StackConfig } from "./config";
import { FUNCTION_NAMES } from "./functions/routes";
import type { TableKey } from "./functions/tables";

const cfg = loadStackConfig();
const tags = { project: "resilient-dynamo", stack: cfg.stack, region: cfg.region };

interface Data {
  tableNames: pulumi.Output<Record<TableKey, string>>;
  tableArns: pulumi.Output<RegionalTableMap>;
  streamArns: pulumi.Output<RegionalTableMap>;
}

/** One StackReference per referenced stack, however many parts of the program read it. */
const stackRefs = new Map<string, pulumi.StackReference>();
function stackRef(name: string): pulumi.StackReference {
  const qualified = qualifyStackName(name, pulumi.getOrganization(), pulumi.getProject());
  let ref = stackRefs.get(qualified);
  if (!ref) {
    ref = new pulumi.StackReference(`stack-${qualified.replace(/\//g, "-")}`, { name: qualified });
    stackRefs.set(qualified, ref);
  }
  return ref;
}

/** What one region stack exports for the parts of the program that span regions. */
export interface RegionView {
  /** The stack's name as configured (plain, so it can name resources). */
  readonly stack: string;
  readonly region: pulumi.Output<string>;
  readonly apiId: pulumi.Output<string>;
  readonly stageName: pulumi.Output<string>;
  readonly stageArn: pulumi.Output<string>;
  readonly executionArn: pulumi.Output<string>;
  readonly invokeUrl: pulumi.Output<string>;
  readonly url: pulumi.Output<string>;
  readonly functionArns: pulumi.Output<Record<string, string>>;
  readonly tableArns: pulumi.Output<Record<TableKey, string>>;
  readonly regionalDomainName: pulumi.Output<string | undefined>;
  readonly regionalZoneId: pulumi.Output<string | undefined>;
}

function peerView(stack: string): RegionView {
  const ref = stackRef(stack);
  const out = <T>(key: string) => ref.requireOutput(key) as pulumi.Output<T>;
  const region = out<string>("region");
  return {
    stack,
    region,
    apiId: out("apiId"),
    stageName: out("stageName"),
    stageArn: out("stageArn"),
    executionArn: out("executionArn"),
    invokeUrl: out("invokeUrl"),
    url: out("url"),
    functionArns: out("functionArns"),
    tableArns: pulumi
      .all([region, out<RegionalTableMap>("tableArns")])
      .apply(([r, arns]) => arns[r] as Record<TableKey, string>),
    regionalDomainName: ref.getOutput("regionalDomainName") as pulumi.Output<string | undefined>,
    regionalZoneId: ref.getOutput("regionalZoneId") as pulumi.Output<string | undefined>,
  };
}

function data(config: StackConfig): Data {
  if (config.role === "primary") {
    const tables = new GlobalTableSet("orders-data", {
      region: config.region,
      replicaRegions: config.replicaRegions,
      namePrefix: config.namePrefix,
      deletionProtection: config.deletionProtection,
      tags,
    });
    return {
      tableNames: tables.tableNames,
      tableArns: tables.tableArns,
      streamArns: tables.streamArns,
    };
  }
  const primaryName = qualifyStackName(
    config.primaryStack,
    pulumi.getOrganization(),
    pulumi.getProject(),
  );
  const primary = stackRef(config.primaryStack);
  const tableArns = primary.requireOutput("tableArns") as pulumi.Output<RegionalTableMap>;
  return {
    tableNames: primary.requireOutput("tableNames") as pulumi.Output<Record<TableKey, string>>,
    tableArns: tableArns.apply((arns) => {
      if (!arns[config.region]) {
        throw new Error(
          `stack ${primaryName} has no replicas in ${config.region} (it has ${Object.keys(arns).join(", ")}); ` +
            `add ${config.region} to its resilient-dynamo:replicaRegions and run pulumi up there first`,
        );
      }
      return arns;
    }),
    streamArns: primary.requireOutput("streamArns") as pulumi.Output<RegionalTableMap>,
  };
}

const tables = data(cfg);

const api = new RegionalApi(`orders-${cfg.region}`, {
  region: cfg.region,
  namePrefix: cfg.namePrefix,
  tableNames: tables.tableNames,
  tableArns: tables.tableArns.apply((arns) => arns[cfg.region] as Record<TableKey, string>),
  stageName: cfg.stageName,
  throttleRateLimit: cfg.throttleRateLimit,
  throttleBurstLimit: cfg.throttleBurstLimit,
  logRetentionDays: cfg.logRetentionDays,
  customDomain:
    cfg.domainName && cfg.hostedZoneId
      ? { domainName: cfg.domainName, hostedZoneId: cfg.hostedZoneId }
      : undefined,
  corsAllowOrigin: cfg.corsAllowOrigin,
  tags,
});

/** This region and every peer region, this stack's first: the input of the cross-region parts. */
const self: RegionView = {
  stack: cfg.stack,
  region: pulumi.output(cfg.region),
  apiId: api.apiId,
  stageName: api.stageName,
  stageArn: api.stageArn,
  executionArn: api.executionArn,
  invokeUrl: api.invokeUrl,
  url: api.url,
  functionArns: api.functionArns as pulumi.Output<Record<string, string>>,
  tableArns: tables.tableArns.apply((arns) => arns[cfg.region] as Record<TableKey, string>),
  regionalDomainName: api.regionalDomainName,
  regionalZoneId: api.regionalZoneId,
};
const regions: RegionView[] = [self, ...cfg.peerStacks.map(peerView)];

// ---- Observability: canaries, dashboard, alarms ----

/** The global service name, when this stack routes it to every region's custom domain. */
const globalEndpoint =
  cfg.routing !== "none" && cfg.domainName
    ? `https://${cfg.domainName}/${DEFAULT_BASE_PATH}`
    : undefined;
const canaryIds =
  cfg.canaryOrderId && cfg.canaryProductId
    ? { orderId: cfg.canaryOrderId, productId: cfg.canaryProductId }
    : undefined;
const canaryCommon = {
  namePrefix: cfg.namePrefix,
  runtimeVersion: cfg.canaryRuntimeVersion,
  schedule: cfg.canarySchedule,
  successPercentThreshold: cfg.canarySuccessPercentThreshold,
  alarmPeriods: cfg.canaryAlarmPeriods,
  alarmTopicArn: cfg.alarmTopicArn,
  tags,
};

const fleets: CanaryFleet[] = [];
if (!canaryIds) {
  pulumi.log.warn(
    `no canaries: set ${cfg.stack}'s resilient-dynamo:canaryOrderId and canaryProductId to ids from ` +
      "POST /fill?order=1&product=1 (see README, Observability) and run pulumi up again",
  );
} else {
  // One canary in this region against this region's own endpoint.
  fleets.push(
    new CanaryFleet(`canaries-${cfg.region}`, {
      ...canaryCommon,
      ...canaryIds,
      region: cfg.region,
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
    if (globalEndpoint) {
      targets.push({ label: "obs-global", endpoint: globalEndpoint, signingRegion: "auto" });
    }
    fleets.push(
      new CanaryFleet(`canaries-observer-${observer}`, {
        ...canaryCommon,
        ...canaryIds,
        region: observer,
        targets,
        apis: regions.map((v) => ({ executionArn: v.executionArn, stageName: v.stageName })),
      }),
    );
  }
}

const tableRegions = tables.tableArns.apply((arns) => Object.keys(arns).sort());

/**
 * The regions this region replicates to, with plain keys that name the alarms: the primary knows
 * its replica regions; a secondary learns the primary's and its peers' regions from their stacks.
 * Every replica region must be covered, or its replication would go unwatched.
 */
function receivingRegions(): ReceivingRegion[] {
  if (cfg.role === "primary") return cfg.replicaRegions.map((r) => ({ key: r, region: r }));
  const stacks = [...new Set([cfg.primaryStack, ...cfg.peerStacks])];
  const views = stacks.map((s) => regions.find((v) => v.stack === s) ?? peerView(s));
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

const functionNames = api.functionNames;
const alarms = new ServiceAlarms(`alarms-${cfg.region}`, {
  region: cfg.region,
  tableNames: tables.tableNames,
  receivingRegions: receivingRegions(),
  apiName: api.apiName,
  stageName: api.stageName,
  functions: Object.fromEntries(FUNCTION_NAMES.map((f) => [f, functionNames.apply((n) => n[f])])),
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
  receivingRegions: tableRegions,
  apiName: api.apiName,
  stageName: api.stageName,
  functionNames: api.functionNames as pulumi.Output<Record<string, string>>,
  canaries: dashboardCanaries,
  replicationLatencyAlarmMs: cfg.replicationLatencyAlarmMs,
});
/**
 * This region's VPC for a private service zone: the configured one, or a small one created here
 * (two AZs, public subnets only, no NAT gateway, so it costs nothing until something runs in it).
 */
function dnsVpc(config: StackConfig): pulumi.Output<string> | undefined {
  if ((config.zoneType ?? "public") !== "private") return undefined;
  if (config.vpcId) return pulumi.output(config.vpcId);
  return new awsx.ec2.Vpc(`dns-vpc-${config.region}`, {
    region: config.region,
    numberOfAvailabilityZones: 2,
    natGateways: { strategy: "None" },
    subnetSpecs: [{ type: "Public", cidrMask: 20 }],
    // A private hosted zone answers only in VPCs with DNS support and hostnames on.
    enableDnsSupport: true,
    enableDnsHostnames: true,
    tags: { ...tags, Name: `${config.namePrefix}-${config.region}` },
  }).vpcId;
}
const vpc = dnsVpc(cfg);

/** What a peer stack must export for routing, read as plain values (they decide resources). */
interface PeerFacts {
  readonly view: RegionView;
  readonly region: string;
  readonly regionalDomainName: string;
  readonly regionalZoneId: string;
  readonly vpcId: string | undefined;
}

async function readPeer(view: RegionView, config: StackConfig): Promise<PeerFacts> {
  const ref = stackRef(view.stack);
  const name = qualifyStackName(view.stack, pulumi.getOrganization(), pulumi.getProject());
  const value = async (key: string): Promise<unknown> => {
    const details = await ref.getOutputDetails(key);
    return details.value ?? details.secretValue;
  };
  const [region, url, regionalDomainName, regionalZoneId, vpcId, routing] = await Promise.all(
    ["region", "url", "regionalDomainName", "regionalZoneId", "vpcId", "routing"].map(value),
  );
  if (typeof region !== "string") {
    throw new Error(
      `stack ${name} has no output region: deploy it first (pulumi up -s ${view.stack}), then this stack, which owns routing`,
    );
  }
  if (routing !== undefined && routing !== "none") {
    throw new Error(
      `stack ${name} owns routing too (routing ${String(routing)}): one stack owns the service name's records; ` +
        `set resilient-dynamo:routing none there or here`,
    );
  }
  if (typeof regionalDomainName !== "string" || typeof regionalZoneId !== "string") {
    throw new Error(
      `stack ${name} exports no regionalDomainName: it has no custom domain for routing to alias. ` +
        `Set resilient-dynamo:domainName ${config.domainName} and resilient-dynamo:hostedZoneId in its config ` +
        `(the same as this stack's) and run pulumi up -s ${view.stack}`,
    );
  }
  if (typeof url !== "string" || !url.startsWith(`https://${config.domainName}/`)) {
    throw new Error(
      `stack ${name} serves ${String(url)}, not https://${config.domainName}/: every region must serve the ` +
        `same service name; set its resilient-dynamo:domainName to ${config.domainName}`,
    );
  }
  if ((config.zoneType ?? "public") === "private" && typeof vpcId !== "string") {
    throw new Error(
      `stack ${name} exports no vpcId for the private zone: set resilient-dynamo:zoneType private in its ` +
        `config (it then creates a VPC, or set resilient-dynamo:vpcId) and run pulumi up -s ${view.stack}`,
    );
  }
  return {
    view,
    region,
    regionalDomainName,
    regionalZoneId,
    vpcId: typeof vpcId === "string" ? vpcId : undefined,
  };
}

interface RoutingOutputs {
  readonly serviceDomain: pulumi.Output<string>;
  /** The HTTPS health checks by region (routing healthcheck). */
  readonly httpsHealthCheckIds?: pulumi.Output<Record<string, string>>;
  readonly arc?: {
    readonly clusterArn: pulumi.Output<string>;
    readonly clusterEndpoints: pulumi.Output<{ endpoint: string; region: string }[]>;
    readonly controlPanelArn: pulumi.Output<string>;
    readonly routingControlArns: pulumi.Output<Record<string, string>>;
    readonly healthCheckIds: pulumi.Output<Record<string, string>>;
  };
}

/**
 * Global routing, on the stack whose config owns it: ArcControlPlane (routing arc) and FailoverDns
 * over this region and every peer. Peer regions come from the peers' outputs, so it waits for
 * them before it declares anything: a region is only a stack file plus peerStacks here.
 */
async function composeRouting(config: StackConfig): Promise<RoutingOutputs> {
  const domainName = config.domainName as string;
  const peers = await Promise.all(regions.slice(1).map((view) => readPeer(view, config)));
  const stackOf = new Map<string, string>([[config.region, config.stack]]);
  for (const p of peers) {
    const other = stackOf.get(p.region);
    if (other !== undefined) {
      throw new Error(
        `stacks ${other} and ${p.view.stack} are both in ${p.region}: routing needs one stack per region; check resilient-dynamo:peerStacks`,
      );
    }
    stackOf.set(p.region, p.view.stack);
  }
  if (config.failoverPrimaryRegion !== undefined && !stackOf.has(config.failoverPrimaryRegion)) {
    throw new Error(
      `resilient-dynamo:failoverPrimaryRegion: got ${config.failoverPrimaryRegion}; expected one of the routed regions ${[...stackOf.keys()].join(", ")}`,
    );
  }

  const defined = (what: string) => (v: string | undefined) => {
    if (v === undefined)
      throw new Error(`this stack has no ${what}; set resilient-dynamo:domainName`);
    return v;
  };
  const members = [
    {
      view: self,
      region: config.region,
      regionalDomainName: self.regionalDomainName.apply(defined("regionalDomainName")),
      regionalZoneId: self.regionalZoneId.apply(defined("regionalZoneId")),
      vpcId: vpc,
    },
    ...peers.map((p) => ({
      ...p,
      vpcId: p.vpcId === undefined ? undefined : pulumi.output(p.vpcId),
    })),
  ];

  let arc: ArcControlPlane | undefined;
  if (config.routing === "arc") {
    arc = new ArcControlPlane("routing-arc", {
      regions: members.map((m) => ({
        region: m.region,
        stageArn: m.view.stageArn,
        functionArns: m.view.functionArns,
        tableArns: m.view.tableArns,
      })),
      safetyRuleWaitPeriodMs: config.safetyRuleWaitPeriodMs,
      readiness: config.arcReadiness,
      namePrefix: config.namePrefix,
      tags,
    });
  }
  const arcChecks = arc?.healthCheckIds;
  const dns = new FailoverDns("routing-dns", {
    domainName,
    routingPolicy: config.routingPolicy ?? "latency",
    primaryRegion: config.failoverPrimaryRegion,
    health: arcChecks ? "arc" : "https",
    healthCheckIntervalSeconds: config.healthCheckIntervalSeconds,
    healthCheckFailureThreshold: config.healthCheckFailureThreshold,
    zone:
      (config.zoneType ?? "public") === "private"
        ? { type: "private" }
        : { type: "public", hostedZoneId: config.hostedZoneId as string },
    regions: members.map((m): DnsRegionArgs => ({
      region: m.region,
      regionalDomainName: m.regionalDomainName,
      regionalZoneId: m.regionalZoneId,
      vpcId: m.vpcId,
      ...(arcChecks
        ? { healthCheckId: arcChecks.apply((ids) => ids[m.region] as string) }
        : {
            // The region's own stage, not the custom domain: see DnsRegionArgs.healthCheckTarget.
            healthCheckTarget: {
              fqdn: m.view.invokeUrl.apply((u) => new URL(u).host),
              path: m.view.invokeUrl.apply(
                (u) => `${new URL(u).pathname.replace(/\/$/, "")}/health`,
              ),
            },
          }),
    })),
    tags,
  });
  return {
    serviceDomain: dns.serviceDomain,
    httpsHealthCheckIds: arc ? undefined : dns.healthCheckIds,
    arc: arc && {
      clusterArn: arc.clusterArn,
      clusterEndpoints: arc.clusterEndpoints,
      controlPanelArn: arc.controlPanelArn,
      routingControlArns: arc.routingControlArns,
      healthCheckIds: arc.healthCheckIds,
    },
  };
}

const routingParts = cfg.routing === "none" ? undefined : composeRouting(cfg);
/** An export of the routing parts; undefined (no stack output) when this stack has no routing. */
function routingOutput<T>(
  pick: (parts: RoutingOutputs) => pulumi.Output<T> | undefined,
): pulumi.Output<T | undefined> | undefined {
  if (!routingParts) return undefined;
  // output() of a promise of an Output resolves to the inner Output's value.
  return pulumi.output(routingParts.then(pick)) as pulumi.Output<T | undefined>;
}

export const region = cfg.region;
export const role = cfg.role;
export const tableNames = tables.tableNames;
export const tableArns = tables.tableArns;
export const streamArns = tables.streamArns;
export const apiId = api.apiId;
export const stageName = api.stageName;
export const stageArn = api.stageArn;
export const executionArn = api.executionArn;
export const invokeUrl = api.invokeUrl;
export const url = api.url;
export const functionArns = api.functionArns;
export const regionalDomainName = api.regionalDomainName;
export const regionalZoneId = api.regionalZoneId;
export const canaries = Object.fromEntries(
  fleets.map((f) => [
    f.region,
    { names: f.canaryNames, bucket: f.bucketName, alarms: f.alarmArns },
  ]),
);
export const dashboardName = dashboard.dashboardName;
export const alarmArns = alarms.alarmArns;
/** This region's VPC for the private service zone (zoneType private). */
export const vpcId = vpc;
// Read by the arc operator CLI and the other region stacks: keep these names.
export const routing = cfg.routing;
export const serviceDomain = routingOutput((p) => p.serviceDomain);
export const arcClusterArn = routingOutput((p) => p.arc?.clusterArn);
export const arcClusterEndpoints = routingOutput((p) => p.arc?.clusterEndpoints);
export const arcControlPanelArn = routingOutput((p) => p.arc?.controlPanelArn);
export const routingControlArns = routingOutput((p) => p.arc?.routingControlArns);
export const routingHealthCheckIds = routingOutput((p) => p.arc?.healthCheckIds);
/** routing healthcheck: the HTTPS health check id by region, for operators and alarms. */
export const httpsHealthCheckIds = routingOutput((p) => p.httpsHealthCheckIds);
