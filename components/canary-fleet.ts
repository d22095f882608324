import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ID_MAX_LENGTH, ID_PATTERN } from "../functions/domain/validation";
import { ROUTES, type HttpMethod } from "../functions/routes";
import { bundleFunction } from "./bundle";
import { SYNTHETICS_NAMESPACE, canaryPolicy, serviceTrustPolicy } from "./policies";
import { privateBucket } from "./private-bucket";
import { executeApiPath } from "./regional-api";
import { assertIntInRange, assertPlain, assertRegion } from "./validate";
import { componentType, withPreviousType } from "./component-type";
import { DEFAULT_LOG_RETENTION_DAYS } from "./defaults";

/** Newest Node.js Synthetics runtime AWS documents for a scripted canary (Puppeteer family). */
export const DEFAULT_CANARY_RUNTIME = "syn-nodejs-puppeteer-15.0";
/** The canary script, bundled like the Lambda handlers. */
export const CANARY_ENTRY = "functions/canary/index.ts";
/**
 * Where Puppeteer runtimes look for the script, and the handler string that names it. Every
 * Puppeteer runtime accepts this layout; Playwright runtimes want the file at the zip root.
 */
export const CANARY_SCRIPT_PATH = "nodejs/node_modules/canary.js";
export const CANARY_HANDLER = "canary.handler";
/** The signed calls the script makes (`/health` is unauthenticated and needs no grant). */
export const CANARY_ROUTES: readonly { method: HttpMethod; path: string }[] = [
  { method: "GET", path: "/orders/{orderId}" },
  { method: "GET", path: "/products/{productId}" },
];
/** Synthetics canary names: at most 21 characters of lowercase letters, digits, `_` and `-`. */
export const CANARY_NAME_MAX_LENGTH = 21;
export const CANARY_NAME_PATTERN = /^[0-9a-z_-]{1,21}$/;
/** Key prefix of run artifacts in the bucket; the role may write only there. */
export const ARTIFACT_PREFIX = "runs";
/** Key prefix of the canary code archives. */
export const CODE_PREFIX = "code";

/** What CanaryFleet uses for each optional argument left unset. */
export const CANARY_FLEET_DEFAULTS = {
  runtimeVersion: DEFAULT_CANARY_RUNTIME,
  schedule: "rate(1 minute)",
  /** Seconds; never more than the schedule's interval (a run must end before the next starts). */
  timeoutSeconds: 60,
  requestTimeoutMs: 10000,
  /** Run artifacts are the runs' logs: kept as long as the canaries' log groups keep theirs. */
  artifactRetentionDays: DEFAULT_LOG_RETENTION_DAYS,
  logRetentionDays: DEFAULT_LOG_RETENTION_DAYS,
  forceDestroyArtifacts: false,
  successPercentThreshold: 90,
  alarmPeriods: 3,
} as const;

const HASH_LENGTH = 6;

/**
 * A valid, deterministic canary name for `label` under `namePrefix`: `<prefix>-<label>` when that
 * fits the 21-character limit, otherwise as much of the label as fits followed by a hash of the
 * full name, so two different labels never end up with the same name.
 */
export function canaryName(namePrefix: string, label: string): string {
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^0-9a-z_-]+/g, "-")
      .replace(/-{2,}/g, "-")
      .replace(/^-+|-+$/g, "");
  const full = [clean(namePrefix), clean(label)].filter(Boolean).join("-");
  if (!full)
    throw new Error(
      `canary name: nothing usable in prefix ${JSON.stringify(namePrefix)} and label ${JSON.stringify(label)}`,
    );
  if (full.length <= CANARY_NAME_MAX_LENGTH) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, HASH_LENGTH);
  const room = CANARY_NAME_MAX_LENGTH - HASH_LENGTH - 1;
  const readable = (clean(label) || full).slice(0, room).replace(/-+$/, "");
  return readable ? `${readable}-${hash}` : hash;
}

/**
 * The files of the canary's code zip: the script bundled from CANARY_ENTRY (and its source map)
 * at CANARY_SCRIPT_PATH.
 */
export function canaryCodeFiles(): Record<string, string> {
  const bundle = bundleFunction(CANARY_ENTRY, { outfile: "canary.js" });
  return {
    [CANARY_SCRIPT_PATH]: bundle.code,
    [`${CANARY_SCRIPT_PATH}.map`]: bundle.sourceMap,
  };
}

/** Seconds between runs of a `rate(...)` schedule; throws on anything else. */
export function scheduleSeconds(expression: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(expression);
  if (!m) {
    throw new Error(
      `canary schedule must be a rate expression such as rate(1 minute) or rate(5 minutes): got ${JSON.stringify(expression)} ` +
        "(cron is not supported: the success alarm's period follows the schedule)",
    );
  }
  const n = Number(m[1]);
  const unit = m[2] as string;
  if (unit.startsWith("minute") ? n < 1 || n > 60 : n !== 1) {
    throw new Error(
      `canary schedule must run every 1 to 60 minutes: got ${JSON.stringify(expression)}`,
    );
  }
  if ((n === 1) !== (unit === "minute" || unit === "hour")) {
    throw new Error(
      `canary schedule: write rate(1 minute) / rate(N minutes) (singular only for 1): got ${JSON.stringify(expression)}`,
    );
  }
  return unit.startsWith("minute") ? n * 60 : 3600;
}

/**
 * The log group of a canary's Lambda function, from the canary's `engineArn`
 * (`arn:aws:lambda:<region>:<account>:function:cwsyn-<name>-<canary id>[:<version>]`): Lambda logs
 * to `/aws/lambda/<function name>`. The canary id is a UUID Synthetics assigns at creation, so the
 * group can only be named once the canary exists.
 */
export function canaryLogGroupName(engineArn: string): string {
  const m =
    /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:(cwsyn-[A-Za-z0-9_-]+)(:[^:]+)?$/.exec(
      engineArn,
    );
  if (!m) {
    throw new Error(
      `canary engineArn is not a Synthetics Lambda function ARN (function:cwsyn-<name>-<id>): ${engineArn}`,
    );
  }
  return `/aws/lambda/${m[1]}`;
}

/** execute-api ARNs of the calls the canary makes against one API stage. */
export function canaryInvokeArns(executionArn: string, stageName: string): string[] {
  return CANARY_ROUTES.map(
    (r) => `${executionArn}/${stageName}/${r.method}/${executeApiPath(r.path)}`,
  );
}

/** One endpoint a canary checks. */
export interface CanaryTarget {
  /**
   * Plain label that names the canary and its alarm (a stack name, `global`); unique within the
   * fleet. Plain because names decide resources.
   */
  label: string;
  /** Base URL the canary calls, stage or base path included (no trailing slash needed). */
  endpoint: pulumi.Input<string>;
  /**
   * Region the requests are signed for (SigV4), or `*` to sign with SigV4a for every region (the
   * global name, served by whichever region routing picks; see functions/canary/check.ts).
   */
  signingRegion: pulumi.Input<string>;
}

/** An API stage the fleet's canaries may call (their role may invoke only these). */
export interface CanaryApi {
  /** `arn:aws:execute-api:region:account:api-id`. */
  executionArn: pulumi.Input<string>;
  stageName: pulumi.Input<string>;
}

export interface CanaryFleetArgs {
  /** Region the canaries, their bucket and their alarms live in. Plain value. */
  region: string;
  /** Prefix of the canary names. */
  namePrefix: string;
  /** One canary per target. */
  targets: CanaryTarget[];
  /** The API stages the targets reach; the role may invoke the canary's routes on these only. */
  apis: CanaryApi[];
  /** A known order id (created with `POST /fill`), read on every run. */
  orderId: string;
  /** A known product id (created with `POST /fill`), read on every run. */
  productId: string;
  /** Synthetics runtime version. @default DEFAULT_CANARY_RUNTIME (CANARY_FLEET_DEFAULTS) */
  runtimeVersion?: string;
  /** How often each canary runs: rate(1 minute) to rate(60 minutes). @default "rate(1 minute)" (CANARY_FLEET_DEFAULTS) */
  schedule?: string;
  /** Limit of one run, seconds (15 up to the schedule's interval). @default 60 or the interval */
  timeoutSeconds?: number;
  /** Per-request timeout the script enforces, ms (100 to 60000). @default 10000 */
  requestTimeoutMs?: number;
  /** Days run artifacts are kept, in Synthetics and in the bucket (1 to 455). @default 30 */
  artifactRetentionDays?: number;
  /** Retention of the canaries' Lambda log groups, in days (a CloudWatch Logs value). @default 30 */
  logRetentionDays?: number;
  /**
   * Customer-managed KMS key (in `region`) for the artifacts bucket, the run artifacts and the
   * canaries' log groups; the canary role may use it. @default SSE-S3 and the CloudWatch Logs key
   */
  kmsKeyArn?: pulumi.Input<string>;
  /** Let `pulumi destroy` delete the artifacts bucket with its objects. @default false */
  forceDestroyArtifacts?: boolean;
  /** Alarm when SuccessPercent averages below this (0-100]. @default 90 */
  successPercentThreshold?: number;
  /** Consecutive schedule periods below the threshold before the alarm fires. @default 3 */
  alarmPeriods?: number;
  /** SNS topic notified when an alarm fires and recovers. @default none */
  alarmTopicArn?: pulumi.Input<string>;
  tags?: Record<string, string>;
}

/** Checks CanaryFleetArgs before any resource exists; returns the canary names by label. */
export function validateCanaryFleetArgs(args: CanaryFleetArgs): Map<string, string> {
  assertPlain("region", args.region);
  assertRegion("region", args.region);
  assertPlain("targets", args.targets);
  if (args.targets.length === 0) throw new Error("CanaryFleet needs at least one target");
  if (args.apis.length === 0) throw new Error("CanaryFleet needs at least one API to invoke");
  const names = new Map<string, string>();
  const seen = new Map<string, string>();
  for (const t of args.targets) {
    assertPlain("target label", t.label);
    if (names.has(t.label)) throw new Error(`duplicate canary target label ${t.label}`);
    const name = canaryName(args.namePrefix, t.label);
    const clash = seen.get(name);
    if (clash) throw new Error(`canary targets ${clash} and ${t.label} both get the name ${name}`);
    seen.set(name, t.label);
    names.set(t.label, name);
  }
  for (const [what, id] of [
    ["orderId", args.orderId],
    ["productId", args.productId],
  ] as const) {
    if (typeof id !== "string" || id.length > ID_MAX_LENGTH || !ID_PATTERN.test(id)) {
      throw new Error(
        `${what} must be an id created by POST /fill (1-${ID_MAX_LENGTH} letters, digits and . _ : -): got ${JSON.stringify(id)}`,
      );
    }
  }
  const interval = scheduleSeconds(args.schedule ?? CANARY_FLEET_DEFAULTS.schedule);
  const timeout = args.timeoutSeconds ?? Math.min(CANARY_FLEET_DEFAULTS.timeoutSeconds, interval);
  assertIntInRange("timeoutSeconds", timeout, 15, Math.min(840, interval));
  assertIntInRange(
    "requestTimeoutMs",
    args.requestTimeoutMs ?? CANARY_FLEET_DEFAULTS.requestTimeoutMs,
    100,
    60000,
  );
  assertIntInRange(
    "artifactRetentionDays",
    args.artifactRetentionDays ?? CANARY_FLEET_DEFAULTS.artifactRetentionDays,
    1,
    455,
  );
  assertIntInRange(
    "logRetentionDays",
    args.logRetentionDays ?? CANARY_FLEET_DEFAULTS.logRetentionDays,
    1,
    3653,
  );
  const threshold = args.successPercentThreshold ?? CANARY_FLEET_DEFAULTS.successPercentThreshold;
  if (!(threshold > 0 && threshold <= 100)) {
    throw new Error(`successPercentThreshold must be in (0, 100]: got ${threshold}`);
  }
  assertIntInRange(
    "alarmPeriods",
    args.alarmPeriods ?? CANARY_FLEET_DEFAULTS.alarmPeriods,
    1,
    Math.max(1, Math.floor(86400 / interval)),
  );
  const runtime = args.runtimeVersion ?? CANARY_FLEET_DEFAULTS.runtimeVersion;
  if (!/^syn-nodejs-puppeteer-\d+\.\d+$/.test(runtime)) {
    throw new Error(
      `runtimeVersion must be a Node.js Puppeteer Synthetics runtime such as ${DEFAULT_CANARY_RUNTIME}: got ${JSON.stringify(runtime)} ` +
        `(the script ships as ${CANARY_SCRIPT_PATH}, the layout those runtimes load)`,
    );
  }
  for (const route of CANARY_ROUTES) {
    if (
      !ROUTES.some((r) => r.method === route.method && r.path === route.path && r.auth === "iam")
    ) {
      throw new Error(`canary route ${route.method} ${route.path} is not an IAM route of the API`);
    }
  }
  return names;
}

/**
 * CloudWatch Synthetics canaries in one region, one per target: each reads a known order and
 * product with SigV4-signed requests and checks `/health`; a non-2xx answer or a timeout fails
 * the run. One private, encrypted, versioned artifacts bucket with lifecycle expiry; one role
 * that may invoke only the canary's routes on the given APIs; one SuccessPercent alarm per canary
 * that also fires when the canary stops reporting.
 */
export class CanaryFleet extends pulumi.ComponentResource {
  /** Canary names by target label (plain: dashboards and alarms are built from them). */
  readonly canaryNames: Readonly<Record<string, string>>;
  readonly region: string;
  readonly canaryArns: pulumi.Output<Record<string, string>>;
  readonly alarmArns: pulumi.Output<Record<string, string>>;
  readonly bucketName: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: CanaryFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      componentType("CanaryFleet"),
      name,
      {},
      withPreviousType(opts, "resilient-dynamo:observability:CanaryFleet"),
    );
    const names = validateCanaryFleetArgs(args);
    const region = args.region;
    const parent = { parent: this };
    const schedule = args.schedule ?? CANARY_FLEET_DEFAULTS.schedule;
    const interval = scheduleSeconds(schedule);
    const retention = args.artifactRetentionDays ?? CANARY_FLEET_DEFAULTS.artifactRetentionDays;

    const kmsKeyArn = args.kmsKeyArn;
    const { bucket, publicAccessBlock: publicAccess } = privateBucket(
      `${name}-artifacts`,
      {
        region,
        kmsKeyArn: args.kmsKeyArn,
        forceDestroy: args.forceDestroyArtifacts ?? CANARY_FLEET_DEFAULTS.forceDestroyArtifacts,
        tags: args.tags,
      },
      this,
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-artifacts`,
      { region, bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      parent,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-artifacts`,
      {
        region,
        bucket: bucket.id,
        rules: [
          {
            id: "expire-run-artifacts",
            status: "Enabled",
            filter: { prefix: `${ARTIFACT_PREFIX}/` },
            expiration: { days: retention },
            noncurrentVersionExpiration: { noncurrentDays: 1 },
          },
          {
            id: "expire-old-code",
            status: "Enabled",
            filter: { prefix: `${CODE_PREFIX}/` },
            noncurrentVersionExpiration: { noncurrentDays: retention },
          },
          {
            id: "abort-incomplete-uploads",
            status: "Enabled",
            filter: {},
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      { parent: this, dependsOn: [versioning] },
    );

    const files = canaryCodeFiles();
    const digest = createHash("sha256").update(JSON.stringify(files)).digest("hex").slice(0, 16);
    const code = new aws.s3.BucketObjectv2(
      `${name}-code`,
      {
        region,
        bucket: bucket.id,
        key: `${CODE_PREFIX}/canary-${digest}.zip`,
        source: new pulumi.asset.AssetArchive(
          Object.fromEntries(
            Object.entries(files).map(([file, text]) => [file, new pulumi.asset.StringAsset(text)]),
          ),
        ),
        ...(kmsKeyArn
          ? { serverSideEncryption: "aws:kms", kmsKeyId: kmsKeyArn }
          : { serverSideEncryption: "AES256" }),
        tags: args.tags,
      },
      { parent: this, dependsOn: [publicAccess] },
    );

    const identity = aws.getCallerIdentityOutput({}, parent);
    const partition = aws.getPartitionOutput({}, parent);
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `Synthetics canaries of ${args.namePrefix} in ${region}`,
        assumeRolePolicy: identity.accountId.apply((account) =>
          JSON.stringify(serviceTrustPolicy("lambda.amazonaws.com", account)),
        ),
        tags: args.tags,
      },
      parent,
    );
    const invokeArns = pulumi
      .all(args.apis.map((a) => pulumi.all([a.executionArn, a.stageName])))
      .apply((pairs) => pairs.flatMap(([arn, stage]) => canaryInvokeArns(arn, stage)));
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.name,
        policy: pulumi
          .all([invokeArns, bucket.arn, identity.accountId, partition.partition, kmsKeyArn])
          .apply(([arns, bucketArn, accountId, part, key]) =>
            JSON.stringify(
              canaryPolicy({
                invokeArns: arns,
                bucketArn,
                artifactPrefix: ARTIFACT_PREFIX,
                canaryNames: [...names.values()],
                region,
                accountId,
                partition: part,
                kmsKeyArn: key,
              }),
            ),
          ),
      },
      parent,
    );

    const canaryArns: Record<string, pulumi.Output<string>> = {};
    const alarmArns: Record<string, pulumi.Output<string>> = {};
    for (const target of args.targets) {
      const canaryNameValue = names.get(target.label) as string;
      const canary = new aws.synthetics.Canary(
        `${name}-${target.label}`,
        {
          region,
          name: canaryNameValue,
          runtimeVersion: args.runtimeVersion ?? CANARY_FLEET_DEFAULTS.runtimeVersion,
          handler: CANARY_HANDLER,
          s3Bucket: code.bucket,
          s3Key: code.key,
          executionRoleArn: role.arn,
          artifactS3Location: pulumi.interpolate`s3://${bucket.id}/${ARTIFACT_PREFIX}/`,
          artifactConfig: {
            s3Encryption: kmsKeyArn
              ? { encryptionMode: "SSE_KMS", kmsKeyArn }
              : { encryptionMode: "SSE_S3" },
          },
          schedule: { expression: schedule },
          runConfig: {
            timeoutInSeconds:
              args.timeoutSeconds ?? Math.min(CANARY_FLEET_DEFAULTS.timeoutSeconds, interval),
            activeTracing: false,
            environmentVariables: {
              CANARY_ENDPOINT: target.endpoint,
              CANARY_SIGNING_REGION: target.signingRegion,
              CANARY_ORDER_ID: args.orderId,
              CANARY_PRODUCT_ID: args.productId,
              CANARY_TIMEOUT_MS: String(
                args.requestTimeoutMs ?? CANARY_FLEET_DEFAULTS.requestTimeoutMs,
              ),
            },
          },
          successRetentionPeriod: retention,
          failureRetentionPeriod: retention,
          startCanary: true,
          deleteLambda: true,
          tags: args.tags,
        },
        { parent: this, dependsOn: [policy] },
      );
      // The role may not create log groups, so the function's group exists only as created here,
      // with retention (runs before it exists keep their logs in the artifacts only).
      new aws.cloudwatch.LogGroup(
        `${name}-${target.label}-logs`,
        {
          region,
          name: canary.engineArn.apply(canaryLogGroupName),
          retentionInDays: args.logRetentionDays ?? CANARY_FLEET_DEFAULTS.logRetentionDays,
          kmsKeyId: kmsKeyArn,
          tags: args.tags,
        },
        parent,
      );
      const alarm = new aws.cloudwatch.MetricAlarm(
        `${name}-${target.label}-success`,
        {
          region,
          alarmDescription: pulumi.interpolate`Canary ${canaryNameValue} (${region}) checking ${target.endpoint}: fewer than ${args.successPercentThreshold ?? CANARY_FLEET_DEFAULTS.successPercentThreshold}% of runs passed, or the canary stopped reporting. Open the canary's runs in CloudWatch Synthetics to see which step failed.`,
          namespace: SYNTHETICS_NAMESPACE,
          metricName: "SuccessPercent",
          dimensions: { CanaryName: canary.name },
          statistic: "Average",
          period: interval,
          evaluationPeriods: args.alarmPeriods ?? CANARY_FLEET_DEFAULTS.alarmPeriods,
          datapointsToAlarm: args.alarmPeriods ?? CANARY_FLEET_DEFAULTS.alarmPeriods,
          threshold: args.successPercentThreshold ?? CANARY_FLEET_DEFAULTS.successPercentThreshold,
          comparisonOperator: "LessThanThreshold",
          // A canary that stops running is itself an outage of the watch.
          treatMissingData: "breaching",
          alarmActions: args.alarmTopicArn ? [args.alarmTopicArn] : [],
          okActions: args.alarmTopicArn ? [args.alarmTopicArn] : [],
          tags: args.tags,
        },
        parent,
      );
      canaryArns[target.label] = canary.arn;
      alarmArns[target.label] = alarm.arn;
    }

    this.region = region;
    this.canaryNames = Object.fromEntries(names);
    this.canaryArns = pulumi.output(canaryArns);
    this.alarmArns = pulumi.output(alarmArns);
    this.bucketName = bucket.bucket;
    this.roleArn = role.arn;
    this.registerOutputs({
      canaryArns: this.canaryArns,
      alarmArns: this.alarmArns,
      bucketName: this.bucketName,
      roleArn: this.roleArn,
    });
  }
}
