/**
 * The one price table of `npm run plan`: list prices (USD, us-east-1, no free tier, no discounts)
 * of what AWS bills by the hour, the month or the scheduled run; the resource types billed by use
 * only (requests, storage, data transfer), named as such and not estimated; and those with no
 * charge of their own. How a recorded resource maps onto the table is tools/cost-estimate.ts; a
 * resource type neither file names is reported as unpriced, never as free.
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
