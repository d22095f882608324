import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assertIntInRange, assertPlain, assertRegion } from "./validate";
import { componentType, withPreviousType } from "./component-type";

/** Route 53 health checkers probe every 10 or 30 seconds; nothing else. */
export const HEALTH_CHECK_INTERVALS = [10, 30] as const;
export type HealthCheckInterval = (typeof HEALTH_CHECK_INTERVALS)[number];
/** Consecutive results before Route 53 changes a check's status. */
export const FAILURE_THRESHOLD_RANGE = { min: 1, max: 10 } as const;

/** How the service name chooses among the healthy regions. */
export const DnsRoutingPolicy = {
  /** Every healthy region answers; clients go to the nearest (active-active). */
  Latency: "latency",
  /** One PRIMARY and one SECONDARY record (active-standby); exactly two regions. */
  Failover: "failover",
} as const;
/** How the service name chooses among the healthy regions. */
export type DnsRoutingPolicy = (typeof DnsRoutingPolicy)[keyof typeof DnsRoutingPolicy];

/** Which health check each region's record carries. */
export const DnsHealth = {
  /** The region's ARC RECOVERY_CONTROL health check (its routing control). */
  Arc: "arc",
  /** An HTTPS check of the region's `GET /health`, created by FailoverDns. */
  Https: "https",
} as const;
/** Which health check each region's record carries. */
export type DnsHealth = (typeof DnsHealth)[keyof typeof DnsHealth];

/** Where the records go. */
export const DnsZoneType = {
  /** An existing public hosted zone (the zone of `domainName` or a parent). */
  Public: "public",
  /** A private hosted zone named `domainName`, created and associated with every region's VPC. */
  Private: "private",
} as const;
/** Where the records go. */
export type DnsZoneType = (typeof DnsZoneType)[keyof typeof DnsZoneType];

/** What FailoverDns uses for each optional argument left unset. */
export const FAILOVER_DNS_DEFAULTS = {
  routingPolicy: DnsRoutingPolicy.Latency,
  healthCheckIntervalSeconds: 10,
  healthCheckFailureThreshold: 3,
  evaluateTargetHealth: true,
} as const;

/** What an HTTPS health check calls: a host and a path. */
export interface HealthCheckTargetArgs {
  /** Host name, e.g. `abc123.execute-api.us-east-1.amazonaws.com`. */
  fqdn: pulumi.Input<string>;
  /** Path, e.g. `/prod/health`. */
  path: pulumi.Input<string>;
}

/** One region the service name can send clients to. */
export interface DnsRegionArgs {
  /** The region's name. Plain value: it names resources and is the latency record's region. */
  region: string;
  /** The API custom domain's regional target (`d-….execute-api.<region>.amazonaws.com`). */
  regionalDomainName: pulumi.Input<string>;
  /** Hosted zone id of that regional target (API Gateway's zone in the region). */
  regionalZoneId: pulumi.Input<string>;
  /** The region's ARC RECOVERY_CONTROL health check id. Required when `health` is `arc`. */
  healthCheckId?: pulumi.Input<string>;
  /**
   * What the HTTPS health check calls, when `health` is `https`: the host and path of this
   * region's `GET /health` on its own stage, e.g. `abc123.execute-api.us-east-1.amazonaws.com`
   * and `/prod/health`. Not the custom domain: the service name resolves through these very
   * records (a checker would test whichever region it was sent to), and API Gateway answers the
   * regional target name only for requests that carry the custom domain as host.
   */
  healthCheckTarget?: HealthCheckTargetArgs;
  /** VPC of this region that resolves the private zone. Required when `zone.type` is `private`. */
  vpcId?: pulumi.Input<string>;
}

/** The hosted zone the records go into. */
export interface DnsZoneArgs {
  /** An existing public zone, or a private zone this component creates. */
  type: DnsZoneType;
  /** The public zone's id (the zone of `domainName` or a parent). Required, and only valid, with type `public`. */
  hostedZoneId?: pulumi.Input<string>;
}

/** The arguments of a FailoverDns. */
export interface FailoverDnsArgs {
  /** The service name, e.g. orders.example.com. Plain value. */
  domainName: string;
  /** The regions, each once. Plain values. */
  regions: DnsRegionArgs[];
  /**
   * `latency`: every healthy region answers, clients go to the nearest (active-active).
   * `failover`: one PRIMARY and one SECONDARY record (active-standby); exactly two regions.
   * @default "latency"
   */
  routingPolicy?: DnsRoutingPolicy;
  /** The PRIMARY region; required, and only valid, with routingPolicy `failover`. */
  primaryRegion?: string;
  /** `arc`: each record carries its region's RECOVERY_CONTROL check; `https`: HTTPS checks of `/health`. */
  health: DnsHealth;
  /** Seconds between HTTPS checks, 10 or 30; only with health `https`. @default 10 */
  healthCheckIntervalSeconds?: number;
  /** Failed HTTPS checks before a region is unhealthy, 1-10; only with health `https`. @default 3 */
  healthCheckFailureThreshold?: number;
  /** The hosted zone the records go into. */
  zone: DnsZoneArgs;
  /** Alias records also follow the health of their target. @default true */
  evaluateTargetHealth?: boolean;
  /** Tags on every taggable child. @default none */
  tags?: Record<string, string>;
}

/** Throws unless the zone is a public zone with its id, or a private zone without one. */
function assertZone(zone: DnsZoneArgs): void {
  assertPlain("zone", zone);
  if (zone?.type === DnsZoneType.Public) {
    if (zone.hostedZoneId === undefined) {
      throw new Error(`zone.hostedZoneId is required with zone.type "public"`);
    }
  } else if (zone?.type === DnsZoneType.Private) {
    if (zone.hostedZoneId !== undefined) {
      throw new Error(
        `zone.hostedZoneId is only valid with zone.type "public": a private zone is created here`,
      );
    }
  } else {
    throw new Error(`zone.type must be "public" or "private": got ${JSON.stringify(zone?.type)}`);
  }
}

/** Checks FailoverDnsArgs before any resource exists. */
export function validateFailoverDnsArgs(args: FailoverDnsArgs): void {
  assertPlain("domainName", args.domainName);
  if (!/^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(args.domainName)) {
    throw new Error(
      `domainName must be a lowercase DNS name such as orders.example.com: got ${JSON.stringify(args.domainName)}`,
    );
  }
  assertPlain("regions", args.regions);
  if (!Array.isArray(args.regions) || args.regions.length === 0) {
    throw new Error("FailoverDns needs at least one region");
  }
  assertZone(args.zone);
  const seen = new Set<string>();
  for (const [i, r] of args.regions.entries()) {
    assertRegion(`regions[${i}].region`, r.region);
    if (seen.has(r.region)) throw new Error(`duplicate region ${r.region} in regions`);
    seen.add(r.region);
    if (args.health === "arc" && r.healthCheckId === undefined) {
      throw new Error(`health is "arc" but region ${r.region} has no healthCheckId`);
    }
    if (args.health === "https" && r.healthCheckTarget === undefined) {
      throw new Error(`health is "https" but region ${r.region} has no healthCheckTarget`);
    }
    if (args.zone.type === "private" && r.vpcId === undefined) {
      throw new Error(`zone is private but region ${r.region} has no vpcId to associate`);
    }
  }
  if (args.health !== "arc" && args.health !== "https") {
    throw new Error(`health must be "arc" or "https": got ${JSON.stringify(args.health)}`);
  }
  const policy = args.routingPolicy ?? FAILOVER_DNS_DEFAULTS.routingPolicy;
  if (policy !== "latency" && policy !== "failover") {
    throw new Error(`routingPolicy must be "latency" or "failover": got ${JSON.stringify(policy)}`);
  }
  if (policy === "failover") {
    // Route 53 failover routing has exactly one PRIMARY and one SECONDARY record per name; a
    // third region would get no record at all, so refuse rather than leave it out silently.
    if (args.regions.length !== 2) {
      throw new Error(
        `routingPolicy "failover" takes exactly two regions (one PRIMARY, one SECONDARY): got ${args.regions.length} (${args.regions.map((r) => r.region).join(", ")}); use "latency" for more`,
      );
    }
    if (args.primaryRegion === undefined || !seen.has(args.primaryRegion)) {
      throw new Error(
        `routingPolicy "failover" needs primaryRegion, one of ${[...seen].join(", ")}: got ${JSON.stringify(args.primaryRegion)}`,
      );
    }
  } else if (args.primaryRegion !== undefined) {
    throw new Error(
      `primaryRegion is only valid with routingPolicy "failover": got ${JSON.stringify(args.primaryRegion)} with "${policy}"`,
    );
  }
  const interval =
    args.healthCheckIntervalSeconds ?? FAILOVER_DNS_DEFAULTS.healthCheckIntervalSeconds;
  if (!(HEALTH_CHECK_INTERVALS as readonly number[]).includes(interval)) {
    throw new Error(`healthCheckIntervalSeconds must be 10 or 30: got ${interval}`);
  }
  assertIntInRange(
    "healthCheckFailureThreshold",
    args.healthCheckFailureThreshold ?? FAILOVER_DNS_DEFAULTS.healthCheckFailureThreshold,
    FAILURE_THRESHOLD_RANGE.min,
    FAILURE_THRESHOLD_RANGE.max,
  );
}

/**
 * The service name in Route 53: one alias A record per region pointing at that region's API
 * custom domain, with latency routing (active-active) or failover routing (one PRIMARY, one
 * SECONDARY), every record tied to its own region's health check: the ARC RECOVERY_CONTROL checks,
 * or HTTPS checks of `/health` that this component creates. In an existing public zone, or in a
 * private zone it creates and associates with one VPC per region.
 */
export class FailoverDns extends pulumi.ComponentResource {
  /** The zone holding the records. */
  readonly zoneId: pulumi.Output<string>;
  /** Health check id carried by each region's record. */
  readonly healthCheckIds: pulumi.Output<Record<string, string>>;
  /** The service name; resolves once every record exists. */
  readonly serviceDomain: pulumi.Output<string>;

  constructor(name: string, args: FailoverDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      componentType("FailoverDns"),
      name,
      {},
      withPreviousType(opts, "resilient-dynamo:routing:FailoverDns"),
    );
    validateFailoverDnsArgs(args);

    const parent = { parent: this };
    const policy = args.routingPolicy ?? FAILOVER_DNS_DEFAULTS.routingPolicy;

    let zoneId: pulumi.Output<string>;
    if (args.zone.type === "private") {
      const zone = new aws.route53.Zone(
        `${name}-zone`,
        {
          name: args.domainName,
          comment: `${args.domainName}: private service name (${args.regions.map((r) => r.region).join(", ")})`,
          vpcs: args.regions.map((r) => ({
            vpcId: r.vpcId as pulumi.Input<string>,
            vpcRegion: r.region,
          })),
          tags: args.tags,
        },
        parent,
      );
      zoneId = zone.zoneId;
    } else {
      // validateFailoverDnsArgs: a public zone has its id.
      zoneId = pulumi.output(args.zone.hostedZoneId as pulumi.Input<string>);
    }

    const healthCheckIds: Record<string, pulumi.Output<string>> = {};
    const records: aws.route53.Record[] = [];
    for (const r of args.regions) {
      let healthCheckId: pulumi.Output<string>;
      if (args.health === "https") {
        const target = r.healthCheckTarget!;
        healthCheckId = new aws.route53.HealthCheck(
          `${name}-${r.region}`,
          {
            type: "HTTPS",
            fqdn: target.fqdn,
            port: 443,
            resourcePath: target.path,
            enableSni: true,
            requestInterval:
              args.healthCheckIntervalSeconds ?? FAILOVER_DNS_DEFAULTS.healthCheckIntervalSeconds,
            failureThreshold:
              args.healthCheckFailureThreshold ?? FAILOVER_DNS_DEFAULTS.healthCheckFailureThreshold,
            tags: { ...args.tags, Name: `${args.domainName} ${r.region}` },
          },
          parent,
        ).id;
      } else {
        healthCheckId = pulumi.output(r.healthCheckId!);
      }
      healthCheckIds[r.region] = healthCheckId;

      const routing =
        policy === "latency"
          ? { latencyRoutingPolicies: [{ region: r.region }] }
          : {
              failoverRoutingPolicies: [
                { type: r.region === args.primaryRegion ? "PRIMARY" : "SECONDARY" },
              ],
            };
      records.push(
        new aws.route53.Record(
          `${name}-${r.region}`,
          {
            zoneId,
            name: args.domainName,
            type: "A",
            setIdentifier: r.region,
            healthCheckId,
            aliases: [
              {
                name: r.regionalDomainName,
                zoneId: r.regionalZoneId,
                evaluateTargetHealth:
                  args.evaluateTargetHealth ?? FAILOVER_DNS_DEFAULTS.evaluateTargetHealth,
              },
            ],
            ...routing,
          },
          parent,
        ),
      );
    }

    this.zoneId = zoneId;
    this.healthCheckIds = pulumi.all(healthCheckIds);
    this.serviceDomain = pulumi.all(records.map((r) => r.fqdn)).apply(() => args.domainName);

    this.registerOutputs({
      zoneId: this.zoneId,
      healthCheckIds: this.healthCheckIds,
      serviceDomain: this.serviceDomain,
    });
  }
}
