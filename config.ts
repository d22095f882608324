/**
 * The one place that reads stack config. Everything the program needs is parsed and validated
 * here, before any resource is declared; a wrong or missing value stops the program with a
 * message naming the key, the value and what is allowed. index.ts and the components never read
 * config anywhere else.
 */
import { z } from "zod";
import type { ArcProviderSettingsArgs } from "resilient-dynamo";
import { eventualWitnessProblem, mrscProblems } from "resilient-dynamo";
import { awsProviderSettings } from "./config-aws";
import { CANARY_ORDER_ID, CANARY_PRODUCT_ID } from "./functions/domain/canary-data";
import { ID_MAX_LENGTH, ID_PATTERN } from "./functions/domain/validation";
import { CONSISTENCY_MODES, TABLES } from "./functions/tables";

export const PROJECT = "resilient-dynamo";

/** Regions this program knows how to deploy to (commercial partition, with API Gateway, Lambda
 * arm64, DynamoDB global tables). Pulumi accepts others; a typo here is worth catching early. */
export const AWS_REGION_PATTERN =
  /^(us|eu|ap|ca|sa|me|af|il|mx)-(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d$/;

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** Ids the canaries read: what `POST /fill` returns (ULIDs), or any id the API accepts. */
const CANARY_ID_TEXT = `an id returned by POST /fill (1-${ID_MAX_LENGTH} letters, digits and . _ : -), e.g. 01JD3V8Q7M2X4K9T6R5B0C1N8F`;
const canaryId = z.string().max(ID_MAX_LENGTH, CANARY_ID_TEXT).regex(ID_PATTERN, CANARY_ID_TEXT);

const region = z.string().regex(AWS_REGION_PATTERN, "an AWS region name such as us-east-1");

/** A KMS key ARN (key or multi-Region key); its region field says which region it serves. */
export const KMS_KEY_ARN_PATTERN =
  /^arn:aws[a-z-]*:kms:([a-z]{2}-[a-z]+-\d):\d{12}:key\/(mrk-)?[0-9a-f-]{32,36}$/;
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
  return m[1] as string;
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
    .default("eventual"),
  /**
   * Set API Gateway's account-level CloudWatch role (one setting per account and region): on the
   * primary, in its region and every replica region; on a secondary, in its own region. Default:
   * on for the primary (the stack that owns the tables), off for the others, so exactly one stack
   * owns each region's setting.
   */
  manageAccountLogging: z.boolean("true or false").optional(),
  /** Deletion protection on every table and replica (the primary owns the tables). */
  deletionProtection: z.boolean().default(true),
  /** Prefix of every physical name; tables are `${namePrefix}-${table}`. */
  namePrefix: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/,
      "3-32 lowercase letters, digits and dashes, starting with a letter",
    )
    .default("resilient-dynamo"),
  /** API Gateway stage name. */
  stageName: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,64}$/, "letters, digits and underscores")
    .default("prod"),
  /** Steady-state requests per second the stage allows before throttling. */
  throttleRateLimit: z.number().positive().max(10000).default(100),
  /** Burst of requests the stage allows above the rate. */
  throttleBurstLimit: z.number().int().positive().max(5000).default(200),
  /** Retention of access logs and function logs. */
  logRetentionDays: z
    .number()
    .int()
    .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
      message: `one of ${LOG_RETENTION_DAYS.join(", ")}`,
    })
    .default(30),
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
    .default("rate(1 minute)"),
  /** Synthetics runtime of the canaries (a Node.js Puppeteer runtime: the script's layout). */
  canaryRuntimeVersion: z
    .string()
    .regex(/^syn-nodejs-puppeteer-\d+\.\d+$/, "a runtime such as syn-nodejs-puppeteer-15.0")
    .default("syn-nodejs-puppeteer-15.0"),
  /** A canary alarms when its SuccessPercent averages below this. */
  canarySuccessPercentThreshold: z
    .number()
    .int()
    .min(1, "an integer from 1 to 100")
    .max(100, "an integer from 1 to 100")
    .default(90),
  /** Consecutive canary runs' periods below the threshold before its alarm fires. */
  canaryAlarmPeriods: z
    .number()
    .int()
    .min(1, "an integer from 1 to 60")
    .max(60, "an integer from 1 to 60")
    .default(3),
  /** Replication latency (Maximum, ms) above which a table's replication alarms. */
  replicationLatencyAlarmMs: z
    .number()
    .int()
    .min(100, "an integer from 100 to 600000 (ms)")
    .max(600000, "an integer from 100 to 600000 (ms)")
    .default(5000),
  /** Minutes of writes with no replication reported before the stalled alarm fires. */
  replicationStalledMinutes: z
    .number()
    .int()
    .min(1, "an integer from 1 to 1440 (minutes)")
    .max(1440, "an integer from 1 to 1440 (minutes)")
    .default(5),
  /** Share of API requests answered 5XX, in percent, above which the API alarms. */
  api5xxRatePercent: z
    .number()
    .int()
    .min(1, "an integer from 1 to 100")
    .max(100, "an integer from 1 to 100")
    .default(5),
  /** Lambda errors per minute at or above which a function alarms. */
  lambdaErrorsThreshold: z.number().int().min(1, "a whole number of at least 1").default(1),
  /** Lambda throttles per minute at or above which a function alarms. */
  lambdaThrottlesThreshold: z.number().int().min(1, "a whole number of at least 1").default(1),
  /** Consecutive one-minute periods over a threshold before a service alarm fires. */
  alarmPeriods: z
    .number()
    .int()
    .min(1, "an integer from 1 to 1440")
    .max(1440, "an integer from 1 to 1440")
    .default(3),
  /** SNS topic every alarm notifies (on alarm and on recovery); none when unset. */
  alarmTopicArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
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
  routingPolicy: z.enum(["latency", "failover"], "latency or failover").optional(),
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
    .default(10),
  /** Consecutive failed checks before a region is unhealthy (routing healthcheck). */
  healthCheckFailureThreshold: z
    .number()
    .int("a whole number from 1 to 10")
    .min(1, "a whole number from 1 to 10")
    .max(10, "a whole number from 1 to 10")
    .default(3),
  /** ARC assertion rule wait period, ms (routing arc). */
  safetyRuleWaitPeriodMs: z
    .number()
    .int("a whole number of milliseconds, 0 or more")
    .min(0, "a whole number of milliseconds, 0 or more")
    .default(5000),
  /** ARC readiness checks (routing arc); AWS no longer opens them to new customers. */
  arcReadiness: z.boolean().default(false),
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

const primary = z
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

const schema = z.discriminatedUnion("role", [primary, secondary]);

export type StackConfig = z.infer<typeof schema> & {
  /** The key's value, or its default for the stack's role. */
  readonly manageAccountLogging: boolean;
  /** The stack's `aws:` provider settings (profile, assumed roles, default tags, ...). */
  readonly awsProvider: ArcProviderSettingsArgs;
  /** The stack's AWS region, from `aws:region`. */
  readonly region: string;
  readonly stack: string;
};
export type PrimaryConfig = Extract<StackConfig, { role: "primary" }>;
export type SecondaryConfig = Extract<StackConfig, { role: "secondary" }>;

/** Config keys of this project whose values are JSON (lists, numbers, booleans), not plain text. */
const JSON_KEYS = new Set([
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

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function describe(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

/**
 * Validates a stack's raw config (full keys such as `aws:region` and `resilient-dynamo:role` to
 * the string values Pulumi stores) and returns it typed. Throws a ConfigError listing every bad
 * key with its value and what is allowed.
 */
export function parseStackConfig(
  raw: Readonly<Record<string, string>>,
  stack: string,
): StackConfig {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(raw)) {
    if (!fullKey.startsWith(`${PROJECT}:`)) continue;
    const key = fullKey.slice(PROJECT.length + 1);
    // Pulumi.yaml declares optional keys with an empty default ("" or []); empty means unset.
    if (text === "") continue;
    if (JSON_KEYS.has(key)) {
      try {
        const value: unknown = JSON.parse(text);
        if (!(Array.isArray(value) && value.length === 0)) values[key] = value;
      } catch {
        problems.push(`${fullKey}: ${JSON.stringify(text)} is not valid JSON`);
      }
    } else {
      values[key] = text;
    }
  }

  const awsRegion = raw["aws:region"];
  if (awsRegion === undefined) {
    problems.push(
      `aws:region: is not set; set it with \`pulumi config set aws:region us-east-1 -s ${stack}\``,
    );
  } else if (!AWS_REGION_PATTERN.test(awsRegion)) {
    problems.push(
      `aws:region: got ${JSON.stringify(awsRegion)}; expected an AWS region name such as us-east-1`,
    );
  }

  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.length ? String(issue.path[0]) : "";
      if (issue.code === "unrecognized_keys") {
        for (const extra of issue.keys) {
          const role = String(values["role"]);
          problems.push(
            `${PROJECT}:${extra}: is not a key for role ${role}; remove it or check its spelling`,
          );
        }
        continue;
      }
      if (key === "role" || issue.code === "invalid_union") {
        problems.push(
          `${PROJECT}:role: got ${describe(values["role"])}; expected "primary" or "secondary"`,
        );
        continue;
      }
      const value = issue.path.reduce<unknown>(
        (v, p) => (v as Record<PropertyKey, unknown> | undefined)?.[p as PropertyKey],
        values,
      );
      const where =
        issue.path.length > 1 ? `${PROJECT}:${issue.path.join(".")}` : `${PROJECT}:${key}`;
      const expected =
        value === undefined ? "is required" : `got ${describe(value)}; expected ${issue.message}`;
      problems.push(`${where}: ${expected}`);
    }
  }

  if (parsed.success && awsRegion !== undefined) {
    const cfg = parsed.data;
    const peers = new Set<string>();
    for (const p of cfg.peerStacks) {
      if (peers.has(p)) problems.push(`${PROJECT}:peerStacks: duplicate stack ${p}`);
      if (p === stack)
        problems.push(
          `${PROJECT}:peerStacks: names this stack itself (${p}); list only the other region stacks`,
        );
      peers.add(p);
    }
    problems.push(...routingProblems(cfg));
    if (
      cfg.routing === "none" &&
      (cfg.domainName === undefined) !== (cfg.hostedZoneId === undefined)
    ) {
      problems.push(
        `${PROJECT}:domainName and ${PROJECT}:hostedZoneId go together: got domainName ${describe(cfg.domainName)} and hostedZoneId ${describe(cfg.hostedZoneId)}`,
      );
    }
    if ((cfg.canaryOrderId === undefined) !== (cfg.canaryProductId === undefined)) {
      problems.push(
        `${PROJECT}:canaryOrderId and ${PROJECT}:canaryProductId go together (the canaries read both): got canaryOrderId ${describe(cfg.canaryOrderId)} and canaryProductId ${describe(cfg.canaryProductId)}; ` +
          `unset both to read the canary items the primary stack writes (${CANARY_ORDER_ID}, ${CANARY_PRODUCT_ID})`,
      );
    }
    problems.push(...kmsProblems(cfg, awsRegion));
    if (cfg.observerRegion !== undefined) {
      const appRegions = [awsRegion, ...(cfg.role === "primary" ? cfg.replicaRegions : [])];
      if (appRegions.includes(cfg.observerRegion)) {
        problems.push(
          `${PROJECT}:observerRegion must differ from the app regions (${appRegions.join(", ")}): got ${cfg.observerRegion}`,
        );
      }
    }
    if (cfg.role === "primary") problems.push(...consistencyProblems(cfg, awsRegion));
    if (cfg.role === "primary") {
      const seen = new Set<string>();
      for (const r of cfg.replicaRegions) {
        if (r === awsRegion)
          problems.push(
            `${PROJECT}:replicaRegions: contains the stack's own region ${r}; list only peer regions`,
          );
        if (seen.has(r)) problems.push(`${PROJECT}:replicaRegions: duplicate replica region ${r}`);
        seen.add(r);
      }
    }
  }

  let awsProvider: ArcProviderSettingsArgs = {};
  try {
    awsProvider = awsProviderSettings(raw);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length) {
    throw new ConfigError(`invalid config for stack ${stack}:\n  - ${problems.join("\n  - ")}`);
  }
  const data = (parsed as { data: z.infer<typeof schema> }).data;
  return {
    ...data,
    manageAccountLogging: data.manageAccountLogging ?? data.role === "primary",
    awsProvider,
    region: awsRegion as string,
    stack,
  };
}

/** KMS keys by region, from the `kmsKeyArns` list; undefined when the list is unset. */
export function kmsKeysByRegion(
  cfg: Pick<StackConfig, "kmsKeyArns">,
): Record<string, string> | undefined {
  if (cfg.kmsKeyArns === undefined) return undefined;
  return Object.fromEntries(cfg.kmsKeyArns.map((arn) => [kmsKeyRegion(arn), arn]));
}

/** `kmsKeyArns`: one key per region, and a key for every region this stack puts data in. */
function kmsProblems(cfg: z.infer<typeof schema>, awsRegion: string): string[] {
  if (cfg.kmsKeyArns === undefined) return [];
  const problems: string[] = [];
  const key = `${PROJECT}:kmsKeyArns`;
  const seen = new Set<string>();
  for (const arn of cfg.kmsKeyArns) {
    const r = kmsKeyRegion(arn);
    if (seen.has(r)) problems.push(`${key}: two keys for region ${r}; give one key per region`);
    seen.add(r);
  }
  const needed = [
    awsRegion,
    ...(cfg.role === "primary" ? cfg.replicaRegions : []),
    ...(cfg.observerRegion !== undefined ? [cfg.observerRegion] : []),
  ];
  const missing = [...new Set(needed)].filter((r) => !seen.has(r));
  if (missing.length) {
    problems.push(
      `${key}: has no key for ${missing.join(", ")}; this stack keeps data there (list one key ARN per region, or unset the key for AWS-managed keys)`,
    );
  }
  return problems;
}

/**
 * The MRSC rules (components/mrsc.ts) on the primary's regions, as messages naming the key:
 * exactly three regions with witnessRegion, one MRSC Region set, no witness in eventual mode.
 */
function consistencyProblems(cfg: z.infer<typeof primary>, awsRegion: string): string[] {
  const found =
    cfg.consistency === "strong"
      ? mrscProblems({
          region: awsRegion,
          replicaRegions: cfg.replicaRegions,
          witnessRegion: cfg.witnessRegion,
          strongTablesWithTtl: TABLES.filter((t) => t.strong && t.ttlAttribute).map((t) => t.key),
        })
      : eventualWitnessProblem(cfg.witnessRegion);
  return found.map((p) => `${PROJECT}:${p.key === "tables" ? "consistency" : p.key}: ${p.message}`);
}

/** The cross-key rules of the routing keys, as messages naming the key. */
function routingProblems(cfg: z.infer<typeof schema>): string[] {
  const problems: string[] = [];
  const key = (k: string) => `${PROJECT}:${k}`;
  if (cfg.routing === "none") {
    for (const k of ["routingPolicy", "failoverPrimaryRegion"] as const) {
      if (cfg[k] !== undefined) {
        problems.push(
          `${key(k)}: only valid on the stack that owns routing (routing arc or healthcheck); this stack has routing none`,
        );
      }
    }
  } else {
    const why = `routing is ${cfg.routing}`;
    if (cfg.domainName === undefined) {
      problems.push(
        `${key("domainName")}: is required when ${why}: the service name the records answer for, e.g. orders.example.com`,
      );
    }
    if (cfg.hostedZoneId === undefined) {
      problems.push(
        `${key("hostedZoneId")}: is required when ${why}: the public hosted zone of domainName`,
      );
    }
    if (cfg.peerStacks.length === 0) {
      problems.push(
        `${key("peerStacks")}: routing spans regions: list the other region stacks, e.g. [region1]; got none`,
      );
    }
    if (cfg.routingPolicy === "failover") {
      if (cfg.failoverPrimaryRegion === undefined) {
        problems.push(
          `${key("failoverPrimaryRegion")}: is required when routingPolicy is failover`,
        );
      }
      if (cfg.peerStacks.length > 1) {
        problems.push(
          `${key("routingPolicy")}: failover takes exactly two regions (one PRIMARY, one SECONDARY), this stack and one peer: got ${cfg.peerStacks.length} peer stacks; use latency`,
        );
      }
    } else if (cfg.failoverPrimaryRegion !== undefined) {
      problems.push(
        `${key("failoverPrimaryRegion")}: only valid when routingPolicy is failover (got ${cfg.routingPolicy ?? "latency"})`,
      );
    }
  }
  if (cfg.chaosExperiments) {
    if (cfg.routing === "none") {
      problems.push(
        `${key("chaosExperiments")}: only valid on the stack that owns routing (routing arc or healthcheck); this stack has routing none: set it on that stack`,
      );
    }
    if (!cfg.fisLambdaExtension) {
      problems.push(
        `${key("chaosExperiments")}: needs ${key("fisLambdaExtension")} true on this stack (its functions are fault targets too), and on every stack in peerStacks`,
      );
    }
  }
  if (cfg.vpcId !== undefined && cfg.zoneType !== "private") {
    problems.push(`${key("vpcId")}: only used with zoneType private; this stack's zone is public`);
  }
  return problems;
}

/** RFC 2606 and RFC 6761 names: documentation examples that nobody can deploy a certificate for. */
export function isReservedExampleDomain(domain: string): boolean {
  return (
    /(^|\.)example\.(com|net|org)$/.test(domain) ||
    /\.(example|test|invalid|localhost)$/.test(domain)
  );
}

/**
 * Refuses, on a real deployment only, a domain name the shipped stack files carry as an example:
 * a preview (and the offline plan) still runs, `pulumi up` stops before any resource.
 */
export function assertDeployableDomain(cfg: StackConfig, dryRun: boolean): void {
  if (dryRun || cfg.domainName === undefined || !isReservedExampleDomain(cfg.domainName)) return;
  throw new ConfigError(
    `invalid config for stack ${cfg.stack}:\n  - ${PROJECT}:domainName: ${cfg.domainName} is a reserved example name (RFC 2606); ` +
      `set your service name and its public hosted zone: pulumi config set ${PROJECT}:domainName orders.yourcompany.com -s ${cfg.stack} ` +
      `and pulumi config set ${PROJECT}:hostedZoneId <zone id> -s ${cfg.stack}, in every region stack`,
  );
}

/** A stack reference name: a bare stack name means that stack in this organization and project. */
export function qualifyStackName(name: string, organization: string, project: string): string {
  return name.includes("/") ? name : `${organization}/${project}/${name}`;
}

/** Reads and validates the running stack's config; call once, from index.ts. */
export function loadStackConfig(): StackConfig {
  // Imported here so the pure parser above stays usable without a Pulumi runtime.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  const cfg = parseStackConfig(pulumi.runtime.allConfig(), pulumi.getStack());
  assertDeployableDomain(cfg, pulumi.runtime.isDryRun());
  return cfg;
}
