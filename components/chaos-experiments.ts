import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  CHAOS_FAULT_LIST,
  DEFAULT_CHAOS_DURATION_MINUTES,
  DEFAULT_LAMBDA_DELAY_MS,
  FIS_EXTENSION_LAYER_PARAMETER,
  checkStopAlarms,
  resolveFaultOptions,
} from "./fis-plan";
import { faultTemplate } from "./chaos-template";
import { privateBucket } from "./private-bucket";
import { assertIntInRange, assertPlain, assertRegion } from "./validate";
import { componentType, withPreviousType } from "./component-type";
import { DEFAULT_LOG_RETENTION_DAYS } from "./defaults";

/** The arguments of a FisLambdaTarget. */
export interface FisLambdaTargetArgs {
  /** Region of the bucket and of the functions that read it. Plain value. */
  region: string;
  /** Customer-managed key (in `region`) for the bucket. @default SSE-S3 */
  kmsKeyArn?: pulumi.Input<string>;
  /** Tags on every taggable child. @default none */
  tags?: Record<string, string>;
}

/**
 * What one region's functions need so FIS Lambda actions can reach them: the region's FIS
 * configuration bucket (private, encrypted, TLS only; fault configurations expire after a day)
 * and the FIS extension layer for arm64 functions, read from AWS's public SSM parameter.
 * Pass `bucketArn` and `layerArn` to RegionalApi's `faultInjection`.
 */
export class FisLambdaTarget extends pulumi.ComponentResource {
  /** The FIS configuration bucket (RegionalApi `faultInjection.bucketArn`). */
  readonly bucketArn: pulumi.Output<string>;
  /** The FIS configuration bucket's name. */
  readonly bucketName: pulumi.Output<string>;
  /** The FIS extension layer for arm64 functions (RegionalApi `faultInjection.layerArn`). */
  readonly layerArn: pulumi.Output<string>;

  constructor(name: string, args: FisLambdaTargetArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      componentType("FisLambdaTarget"),
      name,
      {},
      withPreviousType(opts, "resilient-dynamo:chaos:FisLambdaTarget"),
    );
    assertPlain("region", args.region);
    assertRegion("region", args.region);
    const region = args.region;
    const parent = { parent: this };
    const { bucket } = privateBucket(
      `${name}-config`,
      { region, kmsKeyArn: args.kmsKeyArn, tags: args.tags },
      this,
    );
    // FIS deletes a configuration when its action ends; this catches one a failure left behind.
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-config`,
      {
        region,
        bucket: bucket.id,
        rules: [
          {
            id: "expire-fault-configurations",
            status: "Enabled",
            filter: {},
            expiration: { days: 1 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      parent,
    );
    this.bucketArn = bucket.arn;
    this.bucketName = bucket.bucket;
    this.layerArn = aws.ssm
      .getParameterOutput({ name: FIS_EXTENSION_LAYER_PARAMETER.arm64, region }, parent)
      .apply((p) => p.value);
    this.registerOutputs({
      bucketArn: this.bucketArn,
      bucketName: this.bucketName,
      layerArn: this.layerArn,
    });
  }
}

/** One region the experiments can fault. */
export interface ChaosRegionArgs {
  /** Region of the templates, roles' trust and log group. Plain value. */
  region: string;
  /** This region's replica of every table. */
  tableArns: pulumi.Input<pulumi.Input<string>[]>;
  /** This region's functions (their FIS extension reads `fisConfigBucketArn`). */
  functionArns: pulumi.Input<pulumi.Input<string>[]>;
  /** This region's FIS configuration bucket (FisLambdaTarget.bucketArn of the region's stack). */
  fisConfigBucketArn: pulumi.Input<string>;
  /**
   * Alarms of this region that stop every experiment here when they fire: 1 to 5 (FIS quota).
   * Pick the ones that mean customers are hurt beyond what the drill accepts.
   */
  stopAlarmArns: pulumi.Input<string>[];
  /** Customer-managed key (in `region`) for the experiment log group. @default none */
  logKmsKeyArn?: pulumi.Input<string>;
}

/** What ChaosExperiments uses for each optional argument left unset. */
export const CHAOS_EXPERIMENTS_DEFAULTS = {
  durationMinutes: DEFAULT_CHAOS_DURATION_MINUTES,
  lambdaDelayMs: DEFAULT_LAMBDA_DELAY_MS,
  logRetentionDays: DEFAULT_LOG_RETENTION_DAYS,
  strongConsistency: false,
} as const;

/** The arguments of a ChaosExperiments. */
export interface ChaosExperimentsArgs {
  /** Prefix of the log group names. */
  namePrefix: string;
  /** The regions to fault, each once. Plain list. */
  regions: ChaosRegionArgs[];
  /** How long each template's action lasts, 1 to 60 minutes. @default 10 */
  durationMinutes?: number;
  /** Delay the lambda-latency fault adds to every invocation, ms (0 to 900000). @default 2000 */
  lambdaDelayMs?: number;
  /** Retention of the experiment log groups, days. @default 30 */
  logRetentionDays?: number;
  /** The tables are MRSC global tables (their replication pause needs more). @default false */
  strongConsistency?: boolean;
  /** Tags on every taggable child. @default none */
  tags?: Record<string, string>;
}

/** Checks ChaosExperimentsArgs before any resource exists. */
export function validateChaosExperimentsArgs(args: ChaosExperimentsArgs): void {
  assertPlain("regions", args.regions);
  if (args.regions.length === 0) throw new Error("ChaosExperiments: no regions to fault");
  const seen = new Set<string>();
  for (const r of args.regions) {
    assertPlain("region", r.region);
    assertRegion("region", r.region);
    if (seen.has(r.region)) throw new Error(`ChaosExperiments: duplicate region ${r.region}`);
    seen.add(r.region);
    assertPlain("stopAlarmArns", r.stopAlarmArns);
    if (r.stopAlarmArns.length < 1 || r.stopAlarmArns.length > 5) {
      throw new Error(
        `ChaosExperiments: ${r.region} needs 1 to 5 stop alarms (FIS quota), got ${r.stopAlarmArns.length}`,
      );
    }
  }
  resolveFaultOptions(args);
  if (args.logRetentionDays !== undefined) {
    assertIntInRange("logRetentionDays", args.logRetentionDays, 1, 3653);
  }
}

const strings = (v: pulumi.Input<pulumi.Input<string>[]>) =>
  pulumi.output(v).apply((list) => ([...list] as string[]).sort());

/**
 * AWS FIS experiment templates for a failover drill, per region: pause replication into the
 * region's replicas, fail or delay every invocation of its functions, and answer 503 from every
 * function behind its API. Each template has its own role (exact actions on that region's
 * tables or functions, FIS trust limited to this account's experiments in that region), stops
 * when any of the region's stop alarms fires, runs its action for a bounded duration, and logs
 * to a log group with retention.
 */
export class ChaosExperiments extends pulumi.ComponentResource {
  /** Template ids by fault, then region: `{ "lambda-errors": { "us-east-1": "EXT..." } }`. */
  readonly experimentTemplateIds: pulumi.Output<Record<string, Record<string, string>>>;
  /** Experiment role ARNs by fault, then region. */
  readonly roleArns: pulumi.Output<Record<string, Record<string, string>>>;
  /** Experiment log group names by region. */
  readonly logGroupNames: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: ChaosExperimentsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      componentType("ChaosExperiments"),
      name,
      {},
      withPreviousType(opts, "resilient-dynamo:chaos:ChaosExperiments"),
    );
    validateChaosExperimentsArgs(args);
    const options = resolveFaultOptions(args);
    const parent = { parent: this };
    const identity = aws.getCallerIdentityOutput({}, parent);
    const partition = aws.getPartitionOutput({}, parent).partition;
    const ids: Record<string, Record<string, pulumi.Output<string>>> = {};
    const roles: Record<string, Record<string, pulumi.Output<string>>> = {};
    const logGroups: Record<string, pulumi.Output<string>> = {};

    for (const r of args.regions) {
      const region = r.region;
      const logGroup = new aws.cloudwatch.LogGroup(
        `${name}-${region}-logs`,
        {
          region,
          name: `/${args.namePrefix}/${region}/fis/experiments`,
          retentionInDays: args.logRetentionDays ?? CHAOS_EXPERIMENTS_DEFAULTS.logRetentionDays,
          kmsKeyId: r.logKmsKeyArn,
          tags: args.tags,
        },
        parent,
      );
      logGroups[region] = logGroup.name;
      const stopAlarms = pulumi
        .all(r.stopAlarmArns)
        .apply((arns) => checkStopAlarms(region, arns as string[]));
      const tableArns = strings(r.tableArns);
      const functionArns = strings(r.functionArns);

      for (const fault of CHAOS_FAULT_LIST) {
        const { templateId, roleArn } = faultTemplate(
          `${name}-${region}-${fault}`,
          { args, region, fault, options, identity, partition, tableArns, functionArns },
          { fisConfigBucketArn: r.fisConfigBucketArn, logGroup, stopAlarms },
          this,
        );
        (ids[fault] ??= {})[region] = templateId;
        (roles[fault] ??= {})[region] = roleArn;
      }
    }

    const nested = (m: Record<string, Record<string, pulumi.Output<string>>>) =>
      pulumi.output(m) as pulumi.Output<Record<string, Record<string, string>>>;
    this.experimentTemplateIds = nested(ids);
    this.roleArns = nested(roles);
    this.logGroupNames = pulumi.output(logGroups) as pulumi.Output<Record<string, string>>;
    this.registerOutputs({
      experimentTemplateIds: this.experimentTemplateIds,
      roleArns: this.roleArns,
      logGroupNames: this.logGroupNames,
    });
  }
}
