/**
 * Global routing for index.ts, on the stack whose config owns it (`routing` arc or healthcheck):
 * the private zone's VPC, ArcControlPlane and FailoverDns over this region and every peer.
 */
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { ArcControlPlane, FailoverDns, type DnsRegionArgs } from "resilient-dynamo";
import type { StackConfig } from "./config";
import { readPeer, type RegionView, type StackRefs } from "./references";

/**
 * This region's VPC for a private service zone: the configured one, or a small one created here
 * (two AZs, public subnets only, no NAT gateway, so it costs nothing until something runs in it).
 */
export function dnsVpc(
  config: StackConfig,
  tags: Record<string, string>,
): pulumi.Output<string> | undefined {
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

interface RoutingParts {
  readonly serviceDomain: pulumi.Output<string>;
  /** The HTTPS health checks by region (routing healthcheck). */
  readonly httpsHealthCheckIds?: pulumi.Output<Record<string, string>>;
  /** The ARC control plane (routing arc). */
  readonly arc?: ArcControlPlane;
}

export interface RoutingArgs {
  readonly config: StackConfig;
  readonly tags: Record<string, string>;
  readonly refs: StackRefs;
  /** This region first, then every peer region. */
  readonly regions: readonly RegionView[];
  /** This region's VPC for a private service zone (see `dnsVpc`). */
  readonly vpcId: pulumi.Output<string> | undefined;
}

/** An output that is undefined (no stack output) when this stack has no routing. */
type RoutingOutput<T> = pulumi.Output<T | undefined> | undefined;

/** The routing parts as stack outputs, each undefined when this stack does not own routing. */
export interface RoutingOutputs {
  readonly serviceDomain: RoutingOutput<string>;
  readonly arcClusterArn: RoutingOutput<string>;
  readonly arcClusterEndpoints: RoutingOutput<{ endpoint: string; region: string }[]>;
  readonly arcControlPanelArn: RoutingOutput<string>;
  readonly routingControlArns: RoutingOutput<Record<string, string>>;
  readonly routingHealthCheckIds: RoutingOutput<Record<string, string>>;
  readonly httpsHealthCheckIds: RoutingOutput<Record<string, string>>;
}

/**
 * Global routing, on the stack whose config owns it: ArcControlPlane (routing arc) and FailoverDns
 * over this region and every peer. Peer regions come from the peers' outputs, so it waits for
 * them before it declares anything: a region is only a stack file plus peerStacks here.
 */
async function composeRouting(args: RoutingArgs): Promise<RoutingParts | undefined> {
  const { config, tags, refs, regions, vpcId } = args;
  const self = regions[0] as RegionView;
  const domainName = config.domainName as string;
  // A preview before a peer is deployed: nothing to route to yet (StackRefs warns).
  const undeployed = await Promise.all(
    regions.slice(1).map((view) => refs.undeployedInPreview(view.stack)),
  );
  if (undeployed.some(Boolean)) return undefined;
  const peers = await Promise.all(regions.slice(1).map((view) => readPeer(refs, view, config)));
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
      vpcId,
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
      // The us-west-2 provider gets this stack's own aws: settings, not just the environment's.
      arcProviderSettings: config.awsProvider,
      namePrefix: config.namePrefix,
      tags,
    });
  }
  const arcChecks = arc?.healthCheckIds;
  const dns = new FailoverDns("routing-dns", {
    domainName,
    routingPolicy: config.routingPolicy,
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
    arc,
  };
}

/**
 * Composes routing when `config.routing` is not `none` (validating every peer before it creates
 * anything) and returns its stack outputs; with routing `none` every output is undefined.
 */
export function globalRouting(args: RoutingArgs): RoutingOutputs {
  const parts = args.config.routing === "none" ? undefined : composeRouting(args);
  function output<T>(pick: (p: RoutingParts) => pulumi.Output<T> | undefined): RoutingOutput<T> {
    if (!parts) return undefined;
    // output() of a promise of an Output resolves to the inner Output's value.
    return pulumi.output(parts.then((p) => (p ? pick(p) : undefined))) as pulumi.Output<
      T | undefined
    >;
  }
  return {
    serviceDomain: output((p) => p.serviceDomain),
    arcClusterArn: output((p) => p.arc?.clusterArn),
    arcClusterEndpoints: output((p) => p.arc?.clusterEndpoints),
    arcControlPanelArn: output((p) => p.arc?.controlPanelArn),
    routingControlArns: output((p) => p.arc?.routingControlArns),
    routingHealthCheckIds: output((p) => p.arc?.healthCheckIds),
    httpsHealthCheckIds: output((p) => p.httpsHealthCheckIds),
  };
}
