/**
 * One FIS experiment template of ChaosExperiments: one fault in one region, with its own role
 * (exact actions on that region's tables or functions, FIS trust limited to this account's
 * experiments in that region), the region's stop alarms and its experiment log group.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  faultAction,
  fisRolePolicy,
  fisTrustPolicy,
  type ChaosFault,
  type FaultOptions,
} from "./fis-plan";
import { CHAOS_EXPERIMENTS_DEFAULTS, type ChaosExperimentsArgs } from "./chaos-experiments";

/** The fault, and what every template of the experiments shares. */
export interface FaultTemplateInput {
  readonly args: ChaosExperimentsArgs;
  readonly region: string;
  readonly fault: ChaosFault;
  /** The resolved fault options (duration, delay). */
  readonly options: Required<FaultOptions>;
  readonly identity: pulumi.Output<aws.GetCallerIdentityResult>;
  readonly partition: pulumi.Output<string>;
  /** The region's table replica ARNs, sorted. */
  readonly tableArns: pulumi.Output<string[]>;
  /** The region's function ARNs, sorted. */
  readonly functionArns: pulumi.Output<string[]>;
}

/** The region's parts every template there uses. */
export interface FaultRegionParts {
  /** The region's FIS configuration bucket. */
  readonly fisConfigBucketArn: pulumi.Input<string>;
  /** The region's experiment log group. */
  readonly logGroup: aws.cloudwatch.LogGroup;
  /** The region's checked stop alarm ARNs. */
  readonly stopAlarms: pulumi.Output<string[]>;
}

/** Creates the role, its policy and the experiment template of one fault in one region. */
export function faultTemplate(
  id: string,
  input: FaultTemplateInput,
  parts: FaultRegionParts,
  parent: pulumi.Resource,
): { templateId: pulumi.Output<string>; roleArn: pulumi.Output<string> } {
  const { args, region, fault, options, identity, partition, tableArns, functionArns } = input;
  const { fisConfigBucketArn, logGroup, stopAlarms } = parts;
  const action = faultAction(fault, options);
  const role = new aws.iam.Role(
    `${id}-role`,
    {
      description: `FIS experiment ${fault} in ${region} (${args.namePrefix})`,
      assumeRolePolicy: pulumi
        .all([identity.accountId, partition])
        .apply(([account, p]) => JSON.stringify(fisTrustPolicy(account, region, p))),
      tags: args.tags,
    },
    { parent },
  );
  const policy = new aws.iam.RolePolicy(
    `${id}-policy`,
    {
      role: role.name,
      policy: pulumi
        .all([
          identity.accountId,
          partition,
          tableArns,
          functionArns,
          fisConfigBucketArn,
          logGroup.arn,
        ])
        .apply(([accountId, p, tables, functions, bucket, logArn]) =>
          JSON.stringify(
            fisRolePolicy(fault, {
              region,
              accountId,
              partition: p,
              tableArns: tables,
              functionArns: functions,
              configBucketArn: bucket,
              logGroupArn: logArn,
              strongConsistency:
                args.strongConsistency ?? CHAOS_EXPERIMENTS_DEFAULTS.strongConsistency,
            }),
          ),
        ),
    },
    { parent },
  );
  const template = new aws.fis.ExperimentTemplate(
    id,
    {
      region,
      description: `${action.description} for ${options.durationMinutes} min (${args.namePrefix}, ${region})`,
      roleArn: role.arn,
      targets: [
        {
          name: action.targetKey,
          resourceType: action.resourceType,
          resourceArns: action.targetKey === "Tables" ? tableArns : functionArns,
          selectionMode: "ALL",
        },
      ],
      actions: [
        {
          name: fault,
          actionId: action.actionId,
          description: action.description,
          parameters: Object.entries(action.parameters).map(([key, value]) => ({
            key,
            value,
          })),
          target: { key: action.targetKey, value: action.targetKey },
        },
      ],
      stopConditions: stopAlarms.apply((arns) =>
        arns.map((value) => ({ source: "aws:cloudwatch:alarm", value })),
      ),
      logConfiguration: {
        logSchemaVersion: 2,
        // FIS wants the log group ARN with its `:*` suffix.
        cloudwatchLogsConfiguration: { logGroupArn: pulumi.interpolate`${logGroup.arn}:*` },
      },
      experimentOptions: {
        accountTargeting: "single-account",
        emptyTargetResolutionMode: "fail",
      },
      tags: { ...args.tags, Name: id, fault },
    },
    { parent, dependsOn: [policy] },
  );
  return { templateId: template.id, roleArn: role.arn };
}
