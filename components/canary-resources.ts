/**
 * The resources of a CanaryFleet, one seam each: the artifacts bucket with the script's code in
 * it, the role every canary of the fleet runs under, and one canary with its log group and its
 * SuccessPercent alarm per target. canary-fleet.ts validates the arguments and wires these.
 */
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SYNTHETICS_NAMESPACE, canaryPolicy, serviceTrustPolicy } from "./policies";
import { privateBucket } from "./private-bucket";
import {
  CANARY_FLEET_ENV,
  CANARY_HANDLER,
  canaryCodeFiles,
  canaryInvokeArns,
  canarySettingsEnv,
  type CanaryScriptArgs,
} from "./canary-script";

/** Key prefix of run artifacts in the bucket; the role may write only there. */
export const ARTIFACT_PREFIX = "runs";
/** Key prefix of the canary code archives. */
export const CODE_PREFIX = "code";

/** Where the fleet's canaries keep their code and their run artifacts. */
export interface CanaryArtifacts {
  readonly bucket: aws.s3.Bucket;
  /** The script's code zip, named by a hash of its content (a new script is a new key). */
  readonly code: aws.s3.BucketObjectv2;
}

/** What the artifacts bucket and the code object need from the fleet's arguments. */
export interface CanaryArtifactsInput {
  readonly region: string;
  readonly script: CanaryScriptArgs;
  /** Days run artifacts (and superseded code archives) are kept. */
  readonly retentionDays: number;
  readonly kmsKeyArn?: pulumi.Input<string>;
  readonly forceDestroy: boolean;
  readonly tags?: Record<string, string>;
}

/**
 * One private, encrypted, versioned bucket whose run artifacts expire after the retention, and
 * the bundled script uploaded to it once the bucket is closed to the public.
 */
export function canaryArtifacts(
  name: string,
  input: CanaryArtifactsInput,
  parent: pulumi.Resource,
): CanaryArtifacts {
  const { region, kmsKeyArn, tags } = input;
  const { bucket, publicAccessBlock } = privateBucket(
    `${name}-artifacts`,
    { region, kmsKeyArn, forceDestroy: input.forceDestroy, tags },
    parent,
  );
  const versioning = new aws.s3.BucketVersioning(
    `${name}-artifacts`,
    { region, bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
    { parent },
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
          expiration: { days: input.retentionDays },
          noncurrentVersionExpiration: { noncurrentDays: 1 },
        },
        {
          id: "expire-old-code",
          status: "Enabled",
          filter: { prefix: `${CODE_PREFIX}/` },
          noncurrentVersionExpiration: { noncurrentDays: input.retentionDays },
        },
        {
          id: "abort-incomplete-uploads",
          status: "Enabled",
          filter: {},
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ],
    },
    { parent, dependsOn: [versioning] },
  );

  const files = canaryCodeFiles(input.script);
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
      tags,
    },
    { parent, dependsOn: [publicAccessBlock] },
  );
  return { bucket, code };
}

/** An API stage the fleet's canaries may call, with plain-or-Output parts. */
export interface CanaryRoleApi {
  readonly executionArn: pulumi.Input<string>;
  readonly stageName: pulumi.Input<string>;
}

/** What the fleet's role needs. */
export interface CanaryRoleInput {
  readonly region: string;
  readonly namePrefix: string;
  readonly script: CanaryScriptArgs;
  readonly apis: readonly CanaryRoleApi[];
  readonly bucketArn: pulumi.Output<string>;
  /** The fleet's canary names: the role may write only their Lambda log groups. */
  readonly canaryNames: string[];
  readonly kmsKeyArn?: pulumi.Input<string>;
  readonly tags?: Record<string, string>;
}

/** The role every canary of the fleet runs under, and its policy (canaryPolicy). */
export interface CanaryRole {
  readonly role: aws.iam.Role;
  /** Canaries depend on it: a canary created before its policy fails its first runs. */
  readonly policy: aws.iam.RolePolicy;
}

/**
 * One role, trusted by Lambda in this account, that may invoke only the script's requests on the
 * given API stages (see canaryPolicy for the rest of what it may do).
 */
export function canaryRole(
  name: string,
  input: CanaryRoleInput,
  parent: pulumi.Resource,
): CanaryRole {
  const opts = { parent };
  const identity = aws.getCallerIdentityOutput({}, opts);
  const partition = aws.getPartitionOutput({}, opts);
  const role = new aws.iam.Role(
    `${name}-role`,
    {
      description: `Synthetics canaries of ${input.namePrefix} in ${input.region}`,
      assumeRolePolicy: identity.accountId.apply((account) =>
        JSON.stringify(serviceTrustPolicy("lambda.amazonaws.com", account)),
      ),
      tags: input.tags,
    },
    opts,
  );
  const invokeArns = pulumi
    .all(input.apis.map((a) => pulumi.all([a.executionArn, a.stageName])))
    .apply((pairs) =>
      pairs.flatMap(([arn, stage]) => canaryInvokeArns(arn, stage, input.script.requests)),
    );
  const policy = new aws.iam.RolePolicy(
    `${name}-policy`,
    {
      role: role.name,
      policy: pulumi
        .all([
          invokeArns,
          input.bucketArn,
          identity.accountId,
          partition.partition,
          input.kmsKeyArn,
        ])
        .apply(([arns, bucketArn, accountId, part, key]) =>
          JSON.stringify(
            canaryPolicy({
              invokeArns: arns,
              bucketArn,
              artifactPrefix: ARTIFACT_PREFIX,
              canaryNames: input.canaryNames,
              region: input.region,
              accountId,
              partition: part,
              kmsKeyArn: key,
            }),
          ),
        ),
    },
    opts,
  );
  return { role, policy };
}

/** One target's canary, as the fleet resolved it (every default applied). */
export interface CanaryRunInput {
  readonly region: string;
  /** Resource name suffix: the target's label. */
  readonly label: string;
  /** The canary's Synthetics name. */
  readonly canaryName: string;
  readonly endpoint: pulumi.Input<string>;
  readonly signingRegion: pulumi.Input<string>;
  readonly script: CanaryScriptArgs;
  readonly runtimeVersion: string;
  readonly schedule: string;
  /** The schedule's interval, seconds: the alarm's period. */
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly requestTimeoutMs: number;
  readonly artifactRetentionDays: number;
  readonly logRetentionDays: number;
  readonly successPercentThreshold: number;
  readonly alarmPeriods: number;
  readonly alarmTopicArn?: pulumi.Input<string>;
  readonly kmsKeyArn?: pulumi.Input<string>;
  readonly tags?: Record<string, string>;
  readonly artifacts: CanaryArtifacts;
  readonly role: CanaryRole;
}

/**
 * The canary of one target, the log group of its Lambda function (with retention; the role may
 * not create log groups) and its SuccessPercent alarm, which also fires when the canary stops
 * reporting.
 */
export function canaryWithAlarm(
  name: string,
  input: CanaryRunInput,
  parent: pulumi.Resource,
): { canary: aws.synthetics.Canary; alarm: aws.cloudwatch.MetricAlarm } {
  const { region, kmsKeyArn, tags, artifacts } = input;
  const canary = new aws.synthetics.Canary(
    `${name}-${input.label}`,
    {
      region,
      name: input.canaryName,
      runtimeVersion: input.runtimeVersion,
      handler: CANARY_HANDLER,
      s3Bucket: artifacts.code.bucket,
      s3Key: artifacts.code.key,
      executionRoleArn: input.role.role.arn,
      artifactS3Location: pulumi.interpolate`s3://${artifacts.bucket.id}/${ARTIFACT_PREFIX}/`,
      artifactConfig: {
        s3Encryption: kmsKeyArn
          ? { encryptionMode: "SSE_KMS", kmsKeyArn }
          : { encryptionMode: "SSE_S3" },
      },
      schedule: { expression: input.schedule },
      runConfig: {
        timeoutInSeconds: input.timeoutSeconds,
        activeTracing: false,
        environmentVariables: {
          [CANARY_FLEET_ENV.endpoint]: input.endpoint,
          [CANARY_FLEET_ENV.signingRegion]: input.signingRegion,
          ...canarySettingsEnv(input.script),
          [CANARY_FLEET_ENV.requestTimeoutMs]: String(input.requestTimeoutMs),
        },
      },
      successRetentionPeriod: input.artifactRetentionDays,
      failureRetentionPeriod: input.artifactRetentionDays,
      startCanary: true,
      deleteLambda: true,
      tags,
    },
    { parent, dependsOn: [input.role.policy] },
  );
  // The role may not create log groups, so the function's group exists only as created here,
  // with retention (runs before it exists keep their logs in the artifacts only).
  new aws.cloudwatch.LogGroup(
    `${name}-${input.label}-logs`,
    {
      region,
      name: canary.engineArn.apply(canaryLogGroupName),
      retentionInDays: input.logRetentionDays,
      kmsKeyId: kmsKeyArn,
      tags,
    },
    { parent },
  );
  const topics = input.alarmTopicArn ? [input.alarmTopicArn] : [];
  const alarm = new aws.cloudwatch.MetricAlarm(
    `${name}-${input.label}-success`,
    {
      region,
      alarmDescription: pulumi.interpolate`Canary ${input.canaryName} (${region}) checking ${input.endpoint}: fewer than ${input.successPercentThreshold}% of runs passed, or the canary stopped reporting. Open the canary's runs in CloudWatch Synthetics to see which step failed.`,
      namespace: SYNTHETICS_NAMESPACE,
      metricName: "SuccessPercent",
      dimensions: { CanaryName: canary.name },
      statistic: "Average",
      period: input.intervalSeconds,
      evaluationPeriods: input.alarmPeriods,
      datapointsToAlarm: input.alarmPeriods,
      threshold: input.successPercentThreshold,
      comparisonOperator: "LessThanThreshold",
      // A canary that stops running is itself an outage of the watch.
      treatMissingData: "breaching",
      alarmActions: topics,
      okActions: topics,
      tags,
    },
    { parent },
  );
  return { canary, alarm };
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
