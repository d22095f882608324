/**
 * The one price table of `npm run plan`: list prices (USD, us-east-1, no free tier, no discounts)
 * of what AWS bills by the hour, the month or the scheduled run, and how a recorded resource maps
 * onto them. Everything billed by use (requests, storage, data transfer) is named as such and not
 * estimated. A resource type this file does not name is reported as unpriced, never as free.
 *
 * Each price says where it comes from, when it was checked and how: "official" (read on the AWS
 * pricing page), "secondary" (the figure found in a dated third-party write-up quoting the AWS
 * page; the AWS page itself was not reachable from here), or "unverified" (from the AWS page as
 * remembered; not confirmed when checked). Re-check them before quoting a number to anyone.
 */

/** Hours in a month as AWS's pricing calculator counts them. */
export const HOURS_PER_MONTH = 730;
export const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;

/** When the table below was last checked. */
export const PRICES_CHECKED = "2026-11-28";

export type PriceUnit = "hour" | "month" | "run" | "action-minute";
export type Verification = "official" | "secondary" | "unverified";

export interface UnitPrice {
  readonly usd: number;
  readonly unit: PriceUnit;
  readonly what: string;
  /** The AWS pricing page the figure belongs to. */
  readonly source: string;
  readonly checked: string;
  readonly verification: Verification;
  /** Where the check found the figure, when not on `source`; caveats. */
  readonly note?: string;
}

const ARC_PRICING = "https://aws.amazon.com/application-recovery-controller/pricing/";
const ROUTE53_PRICING = "https://aws.amazon.com/route53/pricing/";
const CLOUDWATCH_PRICING = "https://aws.amazon.com/cloudwatch/pricing/";
const KMS_PRICING = "https://aws.amazon.com/kms/pricing/";
const VPC_PRICING = "https://aws.amazon.com/vpc/pricing/";
const FIS_PRICING = "https://aws.amazon.com/fis/pricing/";

export const PRICES = {
  arcCluster: {
    usd: 2.5,
    unit: "hour",
    what: "ARC routing control cluster",
    source: ARC_PRICING,
    checked: PRICES_CHECKED,
    verification: "unverified",
    note:
      "The ARC developer guide (routing-control.create) confirms clusters are billed by the hour; " +
      "the amount was not confirmed. Control panels, routing controls and safety rules have no " +
      "charge of their own (assumed, not confirmed).",
  },
  readinessCheck: {
    usd: 0.045,
    unit: "hour",
    what: "ARC readiness check",
    source: ARC_PRICING,
    checked: PRICES_CHECKED,
    verification: "unverified",
    note: "Cells, recovery groups and resource sets are assumed to have no charge of their own.",
  },
  healthCheckAws: {
    usd: 0.5,
    unit: "month",
    what: "Route 53 health check, AWS endpoint or no endpoint (calculated, alarm, routing control)",
    source: ROUTE53_PRICING,
    checked: PRICES_CHECKED,
    verification: "secondary",
    note:
      "$0.50 (AWS endpoint) and $0.75 (non-AWS endpoint) per month quoted by a 2025 course page " +
      "(wewantcode.com, Route 53 health checks). Routing control (RECOVERY_CONTROL) health checks " +
      "are priced here as basic health checks; whether Route 53 bills them separately from the " +
      "ARC cluster was not confirmed.",
  },
  healthCheckNonAws: {
    usd: 0.75,
    unit: "month",
    what: "Route 53 health check, non-AWS endpoint",
    source: ROUTE53_PRICING,
    checked: PRICES_CHECKED,
    verification: "secondary",
    note:
      "An endpoint check of a domain name is priced as non-AWS: AWS endpoints are resources in the " +
      "health check's own account (or its billing family), which an API Gateway domain is not.",
  },
  healthCheckFeatureAws: {
    usd: 1.0,
    unit: "month",
    what: "Route 53 health check optional feature (HTTPS, string match, 10 s interval, latency), AWS endpoint",
    source: ROUTE53_PRICING,
    checked: PRICES_CHECKED,
    verification: "unverified",
  },
  healthCheckFeatureNonAws: {
    usd: 2.0,
    unit: "month",
    what: "Route 53 health check optional feature (HTTPS, string match, 10 s interval, latency), non-AWS endpoint",
    source: ROUTE53_PRICING,
    checked: PRICES_CHECKED,
    verification: "unverified",
  },
  hostedZone: {
    usd: 0.5,
    unit: "month",
    what: "Route 53 hosted zone (first 25 in the account)",
    source: ROUTE53_PRICING,
    checked: PRICES_CHECKED,
    verification: "secondary",
    note: "$0.50 per zone per month for the first 25 quoted by eatsip365.com (Route 53 billing).",
  },
  canaryRun: {
    usd: 0.0012,
    unit: "run",
    what: "CloudWatch Synthetics canary run",
    source: CLOUDWATCH_PRICING,
    checked: PRICES_CHECKED,
    verification: "secondary",
    note:
      "$0.0012 per run in US regions quoted by thomasstep.com (2020) and blog.mattsbit.co.uk " +
      "(2023). Other regions cost more. The canary's Lambda, S3 and CloudWatch use is billed on top.",
  },
  dashboard: {
    usd: 3.0,
    unit: "month",
    what: "CloudWatch dashboard",
    source: CLOUDWATCH_PRICING,
    checked: PRICES_CHECKED,
    verification: "secondary",
    note: "$3 per dashboard per month quoted by factualminds.com (June 2026). The free tier's 3 dashboards are not subtracted.",
  },
  alarmMetric: {
    usd: 0.1,
    unit: "month",
    what: "CloudWatch alarm metric, standard resolution",
    source: CLOUDWATCH_PRICING,
    checked: PRICES_CHECKED,
    verification: "secondary",
    note: "$0.10 standard and $0.30 high resolution per alarm metric per month quoted by c3x.dev (aws_cloudwatch_metric_alarm).",
  },
  alarmMetricHighResolution: {
    usd: 0.3,
    unit: "month",
    what: "CloudWatch alarm metric, high resolution (period under 60 s)",
    source: CLOUDWATCH_PRICING,
    checked: PRICES_CHECKED,
    verification: "secondary",
  },
  compositeAlarm: {
    usd: 0.5,
    unit: "month",
    what: "CloudWatch composite alarm",
    source: CLOUDWATCH_PRICING,
    checked: PRICES_CHECKED,
    verification: "secondary",
    note: "Quoted by c3x.dev (aws_cloudwatch_metric_alarm).",
  },
  kmsKey: {
    usd: 1.0,
    unit: "month",
    what: "KMS customer managed key",
    source: KMS_PRICING,
    checked: PRICES_CHECKED,
    verification: "official",
    note: "With automatic rotation, each new backing key adds $1/month (for the first two rotations).",
  },
  natGateway: {
    usd: 0.045,
    unit: "hour",
    what: "NAT gateway (plus $0.045 per GB processed, not estimated)",
    source: VPC_PRICING,
    checked: PRICES_CHECKED,
    verification: "secondary",
    note: "$0.045/hour in us-east-1 quoted by basavytix.com and cloudburn.io (February 2026).",
  },
  fisActionMinute: {
    usd: 0.1,
    unit: "action-minute",
    what: "AWS FIS action-minute (an action running for a minute, rounded to the nearest minute)",
    source: FIS_PRICING,
    checked: "2026-11-29",
    verification: "official",
    note:
      "Read on the AWS FIS pricing page (stored copy, through the search tool): $0.10 per " +
      "action-minute in all regions but GovCloud ($0.12), whatever the action or number of targets.",
  },
  publicIpv4: {
    usd: 0.005,
    unit: "hour",
    what: "public IPv4 address (Elastic IP)",
    source: VPC_PRICING,
    checked: PRICES_CHECKED,
    verification: "secondary",
    note: "$0.005/hour per address quoted by cloudburn.io (February 2026).",
  },
} as const satisfies Record<string, UnitPrice>;

export type PriceKey = keyof typeof PRICES;

/** Monthly cost of one unit of a price. `runs` is runs per month for per-run prices. */
export function monthly(price: UnitPrice, runs = 0): number {
  switch (price.unit) {
    case "hour":
      return price.usd * HOURS_PER_MONTH;
    case "month":
      return price.usd;
    case "run":
    case "action-minute":
      return price.usd * runs;
  }
}

/** What one recorded resource costs, as the plan classifies it. */
export type Pricing =
  | {
      readonly kind: "fixed";
      /** USD per month for this resource. */
      readonly monthlyUsd: number;
      /** How the figure is made, e.g. "$0.75 + 2 features x $2.00". Resources with equal basis are one line. */
      readonly basis: string;
      readonly prices: readonly PriceKey[];
    }
  | { readonly kind: "usage"; readonly drivers: string }
  | { readonly kind: "free" }
  | { readonly kind: "unpriced"; readonly why: string };

export interface PricedResource {
  readonly type: string;
  readonly inputs: Readonly<Record<string, any>>;
}

/** "$2.50", "$0.045", "$0.0012": at least two decimals, as many as the price has (up to 4). */
export function usd(n: number): string {
  const [whole, frac = ""] = n.toFixed(4).replace(/0+$/, "").split(".");
  return `$${whole}.${frac.padEnd(2, "0")}`;
}

function fixedFrom(key: PriceKey, count = 1, label?: string): Pricing {
  const price = PRICES[key];
  const each = monthly(price);
  const per =
    price.unit === "hour"
      ? `${usd(price.usd)}/hour x ${HOURS_PER_MONTH} h`
      : `${usd(price.usd)}/month`;
  return {
    kind: "fixed",
    monthlyUsd: each * count,
    basis: count === 1 ? (label ?? per) : `${count} x ${label ?? per}`,
    prices: [key],
  };
}

/** Runs per month of a canary schedule, or a reason it cannot be counted. */
export function canaryRunsPerMonth(expression: unknown): number | string {
  if (typeof expression !== "string") return "no schedule expression";
  const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours)\s*\)$/.exec(expression.trim());
  if (!rate) {
    return expression.startsWith("cron(")
      ? `cron schedule ${expression} (runs per month not counted)`
      : `unrecognized schedule ${expression}`;
  }
  const n = Number(rate[1]);
  if (n === 0) return 0; // rate(0 minute): runs once when started
  const minutes = rate[2]?.startsWith("hour") ? n * 60 : n;
  return MINUTES_PER_MONTH / minutes;
}

function healthCheck(inputs: Readonly<Record<string, any>>): Pricing {
  const type = String(inputs["type"] ?? "");
  if (type === "RECOVERY_CONTROL" || type === "CALCULATED" || type === "CLOUDWATCH_METRIC") {
    return fixedFrom(
      "healthCheckAws",
      1,
      `${type} health check, ${usd(PRICES.healthCheckAws.usd)}/month`,
    );
  }
  const features: string[] = [];
  if (type.startsWith("HTTPS")) features.push("HTTPS");
  if (type.endsWith("_STR_MATCH")) features.push("string match");
  if (Number(inputs["requestInterval"] ?? 30) === 10) features.push("10 s interval");
  if (inputs["measureLatency"] === true) features.push("latency");
  const base = PRICES.healthCheckNonAws;
  const feature = PRICES.healthCheckFeatureNonAws;
  const monthlyUsd = base.usd + features.length * feature.usd;
  const extra = features.length
    ? ` + ${features.length} x ${usd(feature.usd)} (${features.join(", ")})`
    : "";
  return {
    kind: "fixed",
    monthlyUsd,
    basis: `${type} health check, ${usd(base.usd)}${extra}/month`,
    prices: features.length
      ? ["healthCheckNonAws", "healthCheckFeatureNonAws"]
      : ["healthCheckNonAws"],
  };
}

function alarm(inputs: Readonly<Record<string, any>>): Pricing {
  const queries = (inputs["metricQueries"] as Record<string, any>[] | undefined) ?? [];
  const anomaly = queries.some((q) => /ANOMALY_DETECTION_BAND/.test(String(q["expression"] ?? "")));
  const periods: number[] = queries.length
    ? queries.filter((q) => q["metric"]).map((q) => Number(q["metric"]["period"] ?? 60))
    : [Number(inputs["period"] ?? 60)];
  const metrics = periods.length * (anomaly ? 3 : 1);
  const high = periods.some((p) => p < 60);
  const key: PriceKey = high ? "alarmMetricHighResolution" : "alarmMetric";
  const each = PRICES[key].usd;
  return {
    kind: "fixed",
    monthlyUsd: metrics * each,
    basis: `${metrics} ${high ? "high-resolution " : ""}alarm metric${metrics === 1 ? "" : "s"} x ${usd(each)}/month${anomaly ? " (anomaly detection)" : ""}`,
    prices: [key],
  };
}

function canary(inputs: Readonly<Record<string, any>>): Pricing {
  const runs = canaryRunsPerMonth(inputs["schedule"]?.["expression"]);
  if (typeof runs === "string") return { kind: "unpriced", why: runs };
  const price = PRICES.canaryRun;
  return {
    kind: "fixed",
    monthlyUsd: price.usd * runs,
    basis: `${inputs["schedule"]["expression"]} = ${runs} runs x ${usd(price.usd)}`,
    prices: ["canaryRun"],
  };
}

/** Action-minutes of one run of an FIS experiment template: each action's duration, summed. */
export function fisActionMinutes(inputs: Readonly<Record<string, any>>): number | string {
  const actions = (inputs["actions"] as Record<string, any>[] | undefined) ?? [];
  let total = 0;
  for (const a of actions) {
    const d = ((a["parameters"] as { key: string; value: string }[] | undefined) ?? []).find(
      (p) => p.key === "duration",
    )?.value;
    const m = typeof d === "string" ? /^PT(?:(\d+)H)?(?:(\d+)M)?$/.exec(d) : null;
    if (!m || (!m[1] && !m[2])) return `action ${a["name"]} has no duration in whole minutes`;
    total += Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
  }
  return total;
}

/** An FIS template costs nothing until an experiment runs; a run costs its action-minutes. */
function fisTemplate(inputs: Readonly<Record<string, any>>): Pricing {
  const minutes = fisActionMinutes(inputs);
  if (typeof minutes === "string") return { kind: "unpriced", why: minutes };
  const n = ((inputs["actions"] as unknown[] | undefined) ?? []).length;
  const price = PRICES.fisActionMinute;
  return {
    kind: "usage",
    drivers:
      `each experiment run: ${n} action${n === 1 ? "" : "s"}, ${minutes} action-minutes x ` +
      `${usd(price.usd)} = ${usd(minutes * price.usd)} at most (stopped early: less)`,
  };
}

/** Fixed prices by resource type token. */
const FIXED: Record<string, (inputs: Readonly<Record<string, any>>) => Pricing> = {
  "aws:route53recoverycontrol/cluster:Cluster": () => fixedFrom("arcCluster"),
  "aws:route53recoveryreadiness/readinessCheck:ReadinessCheck": () => fixedFrom("readinessCheck"),
  "aws:route53/healthCheck:HealthCheck": healthCheck,
  "aws:route53/zone:Zone": () => fixedFrom("hostedZone"),
  "aws:synthetics/canary:Canary": canary,
  "aws:cloudwatch/dashboard:Dashboard": () => fixedFrom("dashboard"),
  "aws:cloudwatch/metricAlarm:MetricAlarm": alarm,
  "aws:cloudwatch/compositeAlarm:CompositeAlarm": () => fixedFrom("compositeAlarm"),
  "aws:kms/key:Key": () => fixedFrom("kmsKey"),
  "aws:ec2/natGateway:NatGateway": () => fixedFrom("natGateway"),
  "aws:ec2/eip:Eip": () => fixedFrom("publicIpv4"),
  "aws:fis/experimentTemplate:ExperimentTemplate": fisTemplate,
  "aws:apigateway/stage:Stage": (inputs) =>
    inputs["cacheClusterEnabled"] === true
      ? { kind: "unpriced", why: "stage cache cluster (billed by the hour by size)" }
      : { kind: "free" },
};

/** Billed by use only: what drives the bill. */
export const USAGE_BASED: Readonly<Record<string, string>> = {
  "aws:dynamodb/table:Table":
    "on-demand reads and writes, replicated writes, storage, point-in-time recovery storage, streams reads",
  "aws:lambda/function:Function": "requests and GB-seconds",
  "aws:apigateway/restApi:RestApi": "requests and data transfer",
  "aws:apigateway/methodSettings:MethodSettings": "detailed CloudWatch metrics, when enabled",
  "aws:cloudwatch/logGroup:LogGroup": "log ingestion and storage",
  "aws:route53/record:Record": "DNS queries (alias queries to AWS resources are free)",
  "aws:s3/bucket:Bucket": "storage, requests, data transfer",
  "aws:s3/bucketV2:BucketV2": "storage, requests, data transfer",
  "aws:sns/topic:Topic": "publishes and deliveries",
  "aws:s3/bucketObject:BucketObject": "storage and requests",
  "aws:s3/bucketObjectv2:BucketObjectv2": "storage and requests",
  "aws:dynamodb/tableItem:TableItem":
    "its write, replicated writes and storage (billed to its table)",
  "aws:xray/group:Group": "traces recorded and scanned",
  "aws:sqs/queue:Queue": "requests (the first million a month are free) and data transfer",
};

/** Where the table drivers below come from. */
export const GLOBAL_TABLES_BILLING =
  "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/global-tables-billing.html";

/**
 * What drives an MRSC table's bill (consistency STRONG on its replicas): as for every global
 * table, each write is billed once per replica table as a replicated write (rWRU on demand,
 * priced as a WRU; GLOBAL_TABLES_BILLING), and reads are billed where they run. MRSC's strongly
 * consistent reads are whole read request units, where MREC's default eventually consistent reads
 * cost half. The witness holds no readable data; AWS's pages we checked give it no price of its
 * own, so none is assumed here.
 */
export const MRSC_TABLE_DRIVERS =
  "MRSC: replicated writes in every replica, reads (strongly consistent ones a full read unit each), storage, point-in-time recovery storage, streams reads; witness: no published price found";

function isMrsc(inputs: Readonly<Record<string, any>>): boolean {
  const replicas: unknown = inputs["replicas"];
  return (
    Array.isArray(replicas) &&
    replicas.some((r) => (r as { consistencyMode?: unknown })?.consistencyMode === "STRONG")
  );
}

/** Resource types with no charge of their own. */
export const NO_CHARGE: ReadonlySet<string> = new Set([
  "aws:iam/role:Role",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/policy:Policy",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:kms/alias:Alias",
  "aws:kms/keyPolicy:KeyPolicy",
  "aws:apigateway/account:Account",
  "aws:apigateway/response:Response",
  "aws:apigateway/resource:Resource",
  "aws:apigateway/method:Method",
  "aws:apigateway/integration:Integration",
  "aws:apigateway/deployment:Deployment",
  "aws:apigateway/domainName:DomainName",
  "aws:apigateway/basePathMapping:BasePathMapping",
  "aws:lambda/permission:Permission",
  // Lambda's reads of a DynamoDB stream are not billed (DynamoDB pricing, streams; and
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html).
  "aws:lambda/eventSourceMapping:EventSourceMapping",
  "aws:acm/certificate:Certificate",
  "aws:acm/certificateValidation:CertificateValidation",
  "aws:route53/zoneAssociation:ZoneAssociation",
  "aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization",
  "aws:route53recoverycontrol/controlPanel:ControlPanel",
  "aws:route53recoverycontrol/routingControl:RoutingControl",
  "aws:route53recoverycontrol/safetyRule:SafetyRule",
  "aws:route53recoveryreadiness/cell:Cell",
  "aws:route53recoveryreadiness/recoveryGroup:RecoveryGroup",
  "aws:route53recoveryreadiness/resourceSet:ResourceSet",
  "aws:s3/bucketVersioning:BucketVersioning",
  "aws:s3/bucketVersioningV2:BucketVersioningV2",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:sns/topicSubscription:TopicSubscription",
  "aws:sns/topicPolicy:TopicPolicy",
  "aws:ec2/vpc:Vpc",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/routeTable:RouteTable",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:ec2/route:Route",
  "aws:ec2/internetGateway:InternetGateway",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  "aws:ec2/defaultRouteTable:DefaultRouteTable",
  "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl",
]);

/**
 * Whether a type is a deployable resource at all: components (`resilient-dynamo:*`, `awsx:*`),
 * providers and stack references cost nothing and are not listed in the cost section.
 */
export function isBillableType(type: string): boolean {
  return type.startsWith("aws:");
}

/** How one recorded resource is priced. */
export function priceOf(resource: PricedResource): Pricing {
  if (resource.type === "aws:dynamodb/table:Table" && isMrsc(resource.inputs)) {
    return { kind: "usage", drivers: MRSC_TABLE_DRIVERS };
  }
  const fixed = FIXED[resource.type];
  if (fixed) return fixed(resource.inputs);
  const usage = USAGE_BASED[resource.type];
  if (usage !== undefined) return { kind: "usage", drivers: usage };
  if (NO_CHARGE.has(resource.type)) return { kind: "free" };
  return { kind: "unpriced", why: "not in tools/prices.ts" };
}
