/**
 * The keys of the stack config and what each accepts: the zod schema of the `resilient-dynamo:`
 * keys for each role, with the patterns and value lists they check against. One key at a time;
 * the rules between keys are in config-rules.ts, the parsing in config.ts.
 *
 * A key that sets a component argument defaults to that component's own default (the package's
 * exported `<COMPONENT>_DEFAULTS`), so each default is written once; where config's default
 * differs on purpose (manageAccountLogging), the key says why. Keys that choose what the stack
 * builds (routing, fisLambdaExtension, chaosExperiments) have no component default.
 */
import { z } from "zod";
import {
  ARC_CONTROL_PLANE_DEFAULTS,
  CANARY_FLEET_DEFAULTS,
  DEFAULT_NAME_PREFIX,
  DnsRoutingPolicy,
  FAILOVER_DNS_DEFAULTS,
  GLOBAL_TABLE_SET_DEFAULTS,
  REGION_DESCRIPTION,
  REGION_PATTERN,
  REGIONAL_API_DEFAULTS,
  SERVICE_ALARMS_DEFAULTS,
} from "resilient-dynamo";
import { ID_MAX_LENGTH, ID_PATTERN } from "../functions/domain/validation";
import { CONSISTENCY_MODES } from "../functions/tables";

export const PROJECT = "resilient-dynamo";

/** ServiceAlarms' default thresholds: the defaults of the alarm keys. */
const ALARM_DEFAULTS = SERVICE_ALARMS_DEFAULTS.thresholds;

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** Ids the canaries read: what `POST /fill` returns (ULIDs), or any id the API accepts. */
const CANARY_ID_TEXT = `an id returned by POST /fill (1-${ID_MAX_LENGTH} letters, digits and . _ : -), e.g. 01JD3V8Q7M2X4K9T6R5B0C1N8F`;
const canaryId = z.string().max(ID_MAX_LENGTH, CANARY_ID_TEXT).regex(ID_PATTERN, CANARY_ID_TEXT);

/** A region name, checked with the package's one region pattern (a typo such as us-east1 is
 * caught here, before Pulumi asks AWS). */
const region = z.string().regex(REGION_PATTERN, REGION_DESCRIPTION);

/** The package's region pattern without its anchors, to embed in a larger pattern. */
const REGION_IN_TEXT = REGION_PATTERN.source.replace(/^\^/, "").replace(/\$$/, "");

/**
 * A KMS key ARN (key or multi-Region key); its region field (the named group `region`, checked
 * with the package's region pattern) says which region it serves.
 */
export const KMS_KEY_ARN_PATTERN = new RegExp(
  `^arn:aws[a-z-]*:kms:(?<region>${REGION_IN_TEXT}):\\d{12}:key/(mrk-)?[0-9a-f-]{32,36}$`,
);
const kmsKeyArn = z
  .string()
  .regex(
    KMS_KEY_ARN_PATTERN,
    "a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  );

/** The region a KMS key ARN names (field 4 of the ARN). */
export function kmsKeyRegion(arn: string): string {
  const m = KMS_KEY_ARN_PATTERN.exec(arn);
  if (!m) throw new Error(`not a KMS key ARN: ${arn}`);
  return m.groups?.["region"] as string;
}

/** Values of the `routing` key. */
export const ROUTING_MODES = ["arc", "healthcheck", "none"] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];

const common = {
  /**
   * How the stack set's global tables replicate: `eventual` (MREC: any region writes, last writer
   * wins, a stream reconciler cancels double sales) or `strong` (MRSC for customers, products and
   * orders; kv stays eventual for its TTL). Every region stack of the set must say the same.
   */
  consistency: z
    .enum(CONSISTENCY_MODES as ["eventual", "strong"], `one of ${CONSISTENCY_MODES.join(", ")}`)
    .default(GLOBAL_TABLE_SET_DEFAULTS.consistency),
  /**
   * Set API Gateway's account-level CloudWatch role (one setting per account and region): on the
   * primary, in its region and every replica region; on a secondary, in its own region. Default:
   * on for the primary (the stack that owns the tables), off for the others, so exactly one stack
   * owns each region's setting. (RegionalApi's own default, on, suits a single stack; a stack
   * set needs one owner per region, hence the role decides here.)
   */
  manageAccountLogging: z.boolean("true or false").optional(),
  /** Deletion protection on every table and replica (the primary owns the tables). */
  deletionProtection: z.boolean().default(GLOBAL_TABLE_SET_DEFAULTS.deletionProtection),
  /** Prefix of every physical name; tables are `${namePrefix}-${table}`. */
  namePrefix: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/,
      "3-32 lowercase letters, digits and dashes, starting with a letter",
    )
    .default(DEFAULT_NAME_PREFIX),
  /** API Gateway stage name. */
  stageName: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,64}$/, "letters, digits and underscores")
    .default(REGIONAL_API_DEFAULTS.stageName),
  /** Steady-state requests per second the stage allows before throttling. */
  throttleRateLimit: z
    .number()
    .positive()
    .max(10000)
    .default(REGIONAL_API_DEFAULTS.throttleRateLimit),
  /** Burst of requests the stage allows above the rate. */
  throttleBurstLimit: z
    .number()
    .int()
    .positive()
    .max(5000)
    .default(REGIONAL_API_DEFAULTS.throttleBurstLimit),
  /** Retention of access logs and function logs. */
  logRetentionDays: z
    .number()
    .int()
    .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
      message: `one of ${LOG_RETENTION_DAYS.join(", ")}`,
    })
    .default(REGIONAL_API_DEFAULTS.logRetentionDays),
  /** Service name served by every region's custom domain, e.g. orders.example.com. */
  domainName: z
    .string()
    .regex(
      /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
      "a lowercase DNS name such as orders.example.com",
    )
    .optional(),
  /** Route 53 hosted zone that holds domainName's certificate validation and records. */
  hostedZoneId: z
    .string()
    .regex(/^Z[A-Z0-9]{4,32}$/, "a Route 53 hosted zone id such as Z0123456789ABC")
    .optional(),
  /**
   * Other region stacks whose outputs this stack reads (as `region1` or org/project/stack), for
   * the parts that span regions: global routing and observer canaries.
   */
  peerStacks: z
    .array(
      z.string().regex(/^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/, "a stack name"),
      "a list of stack names",
    )
    .default([]),
  /**
   * Region of the observer canaries, which watch every region's endpoint (and the global name)
   * from outside the app regions. Set it on one stack only (the routing stack); unset means this
   * stack runs no observer canaries.
   */
  observerRegion: region.optional(),
  /**
   * An order id the canaries read on every run; unset means the canary order the primary stack
   * writes (`canary-order`). Goes with canaryProductId.
   */
  canaryOrderId: canaryId.optional(),
  /** A product id the canaries read on every run; unset means `canary-product`. */
  canaryProductId: canaryId.optional(),
  /**
   * Customer-managed KMS keys, at most one per region (the region is the ARN's): tables and
   * replicas (primary), log groups and canary buckets use the key of their region. When unset,
   * AWS-managed or AWS-owned keys, as before. When set, it must name a key for every region this
   * stack puts data in: its own, every replica region (primary), the observer region.
   */
  kmsKeyArns: z.array(kmsKeyArn, "a list of KMS key ARNs").optional(),
  /** How often each canary runs. */
  canarySchedule: z
    .string()
    .regex(
      /^rate\((1 minute|([2-9]|[1-5]\d|60) minutes|1 hour)\)$/,
      "a rate from rate(1 minute) to rate(60 minutes), or rate(1 hour)",
    )
    .default(CANARY_FLEET_DEFAULTS.schedule),
  /** Synthetics runtime of the canaries (a Node.js Puppeteer runtime: the script's layout). */
  canaryRuntimeVersion: z
    .string()
    .regex(
      /^syn-nodejs-puppeteer-\d+\.\d+$/,
      `a runtime such as ${CANARY_FLEET_DEFAULTS.runtimeVersion}`,
    )
    .default(CANARY_FLEET_DEFAULTS.runtimeVersion),
  /** A canary alarms when its SuccessPercent averages below this. */
  canarySuccessPercentThreshold: z
    .number()
    .int()
    .min(1, "an integer from 1 to 100")
    .max(100, "an integer from 1 to 100")
    .default(CANARY_FLEET_DEFAULTS.successPercentThreshold),
  /** Consecutive canary runs' periods below the threshold before its alarm fires. */
  canaryAlarmPeriods: z
    .number()
    .int()
    .min(1, "an integer from 1 to 60")
    .max(60, "an integer from 1 to 60")
    .default(CANARY_FLEET_DEFAULTS.alarmPeriods),
  /** Replication latency (Maximum, ms) above which a table's replication alarms. */
  replicationLatencyAlarmMs: z
    .number()
    .int()
    .min(100, "an integer from 100 to 600000 (ms)")
    .max(600000, "an integer from 100 to 600000 (ms)")
    .default(ALARM_DEFAULTS.replicationLatencyMs),
  /** Minutes of writes with no replication reported before the stalled alarm fires. */
  replicationStalledMinutes: z
    .number()
    .int()
    .min(1, "an integer from 1 to 1440 (minutes)")
    .max(1440, "an integer from 1 to 1440 (minutes)")
    .default(ALARM_DEFAULTS.replicationStalledMinutes),
  /** Share of API requests answered 5XX, in percent, above which the API alarms. */
  api5xxRatePercent: z
    .number()
    .int()
    .min(1, "an integer from 1 to 100")
    .max(100, "an integer from 1 to 100")
    .default(ALARM_DEFAULTS.api5xxRatePercent),
  /** Lambda errors per minute at or above which a function alarms. */
  lambdaErrorsThreshold: z
    .number()
    .int()
    .min(1, "a whole number of at least 1")
    .default(ALARM_DEFAULTS.lambdaErrors),
  /** Lambda throttles per minute at or above which a function alarms. */
  lambdaThrottlesThreshold: z
    .number()
    .int()
    .min(1, "a whole number of at least 1")
    .default(ALARM_DEFAULTS.lambdaThrottles),
  /** Consecutive one-minute periods over a threshold before a service alarm fires. */
  alarmPeriods: z
    .number()
    .int()
    .min(1, "an integer from 1 to 1440")
    .max(1440, "an integer from 1 to 1440")
    .default(ALARM_DEFAULTS.alarmPeriods),
  /** SNS topic every alarm notifies (on alarm and on recovery); none when unset. */
  alarmTopicArn: z
    .string()
    .regex(
      new RegExp(`^arn:aws[a-z-]*:sns:${REGION_IN_TEXT}:\\d{12}:[A-Za-z0-9_-]{1,256}$`),
      "an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:oncall",
    )
    .optional(),
  /**
   * Global routing, on the one stack that owns it: `arc` (Route 53 ARC routing controls, safety
   * rule, readiness), `healthcheck` (Route 53 HTTPS health checks of every region's /health) or
   * `none`. A stack with routing reads every other region stack named in peerStacks.
   */
  routing: z.enum(ROUTING_MODES, `one of ${ROUTING_MODES.join(", ")}`).default("none"),
  /** `latency` (active-active) or `failover` (active-standby, exactly two regions). */
  routingPolicy: z.enum(Object.values(DnsRoutingPolicy), "latency or failover").optional(),
  /** The PRIMARY region of failover routing. */
  failoverPrimaryRegion: region.optional(),
  /** Where the service name's records live: the public zone hostedZoneId, or a private zone. */
  zoneType: z.enum(["public", "private"], "public or private").optional(),
  /** This region's VPC that resolves the private zone; the stack creates one when unset. */
  vpcId: z
    .string()
    .regex(/^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/, "a VPC id such as vpc-0123456789abcdef0")
    .optional(),
  /** Seconds between Route 53 HTTPS health checks (routing healthcheck). */
  healthCheckIntervalSeconds: z
    .number()
    .refine((n) => n === 10 || n === 30, { message: "10 or 30" })
    .default(FAILOVER_DNS_DEFAULTS.healthCheckIntervalSeconds),
  /** Consecutive failed checks before a region is unhealthy (routing healthcheck). */
  healthCheckFailureThreshold: z
    .number()
    .int("a whole number from 1 to 10")
    .min(1, "a whole number from 1 to 10")
    .max(10, "a whole number from 1 to 10")
    .default(FAILOVER_DNS_DEFAULTS.healthCheckFailureThreshold),
  /** ARC assertion rule wait period, ms (routing arc). */
  safetyRuleWaitPeriodMs: z
    .number()
    .int("a whole number of milliseconds, 0 or more")
    .min(0, "a whole number of milliseconds, 0 or more")
    .default(ARC_CONTROL_PLANE_DEFAULTS.safetyRuleWaitPeriodMs),
  /** ARC readiness checks (routing arc); AWS no longer opens them to new customers. */
  arcReadiness: z.boolean().default(ARC_CONTROL_PLANE_DEFAULTS.readiness),
  /**
   * Prepare this region's functions for AWS FIS Lambda actions: the FIS extension layer, its
   * environment and a FIS configuration bucket in this region (exported as fisConfigBucketArn).
   * Needed on every region stack before the routing stack turns on chaosExperiments.
   */
  fisLambdaExtension: z.boolean("true or false").default(false),
  /**
   * FIS experiment templates for the drill (ChaosExperiments), on the stack that owns routing:
   * replication pause, Lambda errors and latency, API unavailability, in every routed region.
   */
  chaosExperiments: z.boolean("true or false").default(false),
  /** Origin allowed to call the API from a browser; no CORS preflight routes when unset. */
  corsAllowOrigin: z
    .string()
    .regex(/^https:\/\/[a-z0-9.-]+(:\d+)?$/, "an https origin such as https://app.example.com")
    .optional(),
};

export const primary = z
  .object({
    role: z.literal("primary"),
    /** Regions that get a replica of every table, besides this stack's own region. */
    replicaRegions: z
      .array(region, "a list of AWS region names")
      .min(1, "at least one peer region"),
    /**
     * consistency strong with one replica region: the MRSC witness, a third region of the same
     * MRSC Region set (it holds no readable data). Not valid in eventual mode.
     */
    witnessRegion: region.optional(),
    ...common,
  })
  .strict();

const secondary = z
  .object({
    role: z.literal("secondary"),
    /** The stack that owns the tables: `region1` (same organization and project) or fully
     * qualified, `acme/resilient-dynamo/region1`. */
    primaryStack: z
      .string()
      .regex(
        /^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/,
        "a stack name such as org/resilient-dynamo/region1",
      ),
    ...common,
  })
  .strict();

export const schema = z.discriminatedUnion("role", [primary, secondary]);

/** The `resilient-dynamo:` keys of a stack, as the schema parses them (defaults applied). */
export type ConfigKeys = z.infer<typeof schema>;
/** The keys of a primary stack. */
export type PrimaryKeys = z.infer<typeof primary>;

/** Config keys of this project whose values are JSON (lists, numbers, booleans), not plain text. */
export const JSON_KEYS = new Set([
  "replicaRegions",
  "peerStacks",
  "deletionProtection",
  "manageAccountLogging",
  "throttleRateLimit",
  "throttleBurstLimit",
  "logRetentionDays",
  "canarySuccessPercentThreshold",
  "canaryAlarmPeriods",
  "replicationLatencyAlarmMs",
  "replicationStalledMinutes",
  "api5xxRatePercent",
  "lambdaErrorsThreshold",
  "lambdaThrottlesThreshold",
  "alarmPeriods",
  "healthCheckIntervalSeconds",
  "healthCheckFailureThreshold",
  "safetyRuleWaitPeriodMs",
  "arcReadiness",
  "kmsKeyArns",
  "fisLambdaExtension",
  "chaosExperiments",
]);

/** A config value as an error message shows it. */
export function describeValue(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}
