/**
 * AWS FIS experiments as pure data: which action each fault runs, with which parameters, on which
 * target type, and the exact IAM policy of the role each template runs under. The components
 * (chaos-experiments.ts) only turn these into resources, so tests and reviewers read here what a
 * drill may do to a region.
 *
 * Sources (AWS FIS user guide): actions, parameters and permissions from "AWS FIS Actions
 * reference" (fis-actions-reference.html: #dynamodb-actions-reference, #aws-lambda-actions-reference);
 * the Lambda extension, its S3 configuration location and environment from "Use the AWS FIS
 * aws:lambda:function actions" (use-lambda-actions.html); pricing per action-minute from
 * https://aws.amazon.com/fis/pricing/. See docs/chaos-experiments.md.
 */
import type { PolicyDocument, PolicyStatement } from "./policies";

/** The faults a drill can start, one experiment template per fault and region. */
export const CHAOS_FAULTS = {
  /** `aws:dynamodb:global-table-pause-replication`: replication into this region's replicas stops. */
  replicationPause: "replication-pause",
  /** `aws:lambda:invocation-error`: every invocation fails without running the handler. */
  lambdaErrors: "lambda-errors",
  /** `aws:lambda:invocation-add-delay`: every invocation starts late. */
  lambdaLatency: "lambda-latency",
  /**
   * `aws:lambda:invocation-http-integration-response`: every function behind API Gateway answers
   * 503 without running. FIS has no API Gateway action; this is the closest it supports.
   */
  apiUnavailable: "api-unavailable",
} as const;
export type ChaosFault = (typeof CHAOS_FAULTS)[keyof typeof CHAOS_FAULTS];
export const CHAOS_FAULT_LIST: readonly ChaosFault[] = Object.values(CHAOS_FAULTS);

/** Folder of the FIS configuration bucket the Lambda extension reads (use-lambda-actions.html). */
export const FIS_CONFIG_PREFIX = "FisConfigs";
/** Public SSM parameter with the FIS Lambda extension layer ARN, by function architecture. */
export const FIS_EXTENSION_LAYER_PARAMETER = {
  arm64: "/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x",
  x86_64: "/aws/service/fis/lambda-extension/AWS-FIS-extension-x86_64/1.x.x",
} as const;
/** The extension's wrapper script (AWS_LAMBDA_EXEC_WRAPPER). */
export const FIS_EXTENSION_WRAPPER = "/opt/aws-fis/bootstrap";

/** Every template's action runs at most this long (a drill is minutes, not hours). */
export const MAX_CHAOS_DURATION_MINUTES = 60;
export const DEFAULT_CHAOS_DURATION_MINUTES = 10;
/** invocation-add-delay's startupDelayMilliseconds range (fis-actions-reference.html). */
export const MAX_LAMBDA_DELAY_MS = 900_000;
export const DEFAULT_LAMBDA_DELAY_MS = 2000;
/** FIS quota: stop conditions per experiment template. */
export const MAX_STOP_CONDITIONS = 5;
/** FIS price per action-minute outside GovCloud (https://aws.amazon.com/fis/pricing/). */
export const FIS_USD_PER_ACTION_MINUTE = 0.1;

/** `PT10M`: the ISO 8601 duration FIS takes. */
export function isoMinutes(minutes: number): string {
  return `PT${minutes}M`;
}

export interface FaultOptions {
  /** @default 10 */
  readonly durationMinutes?: number;
  /** invocation-add-delay. @default 2000 */
  readonly lambdaDelayMs?: number;
}

/** One template's single action and the kind of resource it targets. */
export interface FaultAction {
  readonly actionId: string;
  readonly resourceType: "aws:dynamodb:global-table" | "aws:lambda:function";
  /** The action's target key, also used as the target's name. */
  readonly targetKey: "Tables" | "Functions";
  readonly parameters: Readonly<Record<string, string>>;
  readonly description: string;
}

/** Checks the fault options; returns them with defaults applied. */
export function resolveFaultOptions(o: FaultOptions = {}): Required<FaultOptions> {
  const duration = o.durationMinutes ?? DEFAULT_CHAOS_DURATION_MINUTES;
  if (!Number.isInteger(duration) || duration < 1 || duration > MAX_CHAOS_DURATION_MINUTES) {
    throw new Error(
      `durationMinutes must be an integer from 1 to ${MAX_CHAOS_DURATION_MINUTES}: got ${duration}`,
    );
  }
  const delay = o.lambdaDelayMs ?? DEFAULT_LAMBDA_DELAY_MS;
  if (!Number.isInteger(delay) || delay < 0 || delay > MAX_LAMBDA_DELAY_MS) {
    throw new Error(
      `lambdaDelayMs must be an integer from 0 to ${MAX_LAMBDA_DELAY_MS}: got ${delay}`,
    );
  }
  return { durationMinutes: duration, lambdaDelayMs: delay };
}

/** The FIS action a fault runs, with its parameters. */
export function faultAction(fault: ChaosFault, options: FaultOptions = {}): FaultAction {
  const o = resolveFaultOptions(options);
  const duration = isoMinutes(o.durationMinutes);
  const lambda = { resourceType: "aws:lambda:function", targetKey: "Functions" } as const;
  switch (fault) {
    case "replication-pause":
      return {
        actionId: "aws:dynamodb:global-table-pause-replication",
        resourceType: "aws:dynamodb:global-table",
        targetKey: "Tables",
        parameters: { duration },
        description: "Pause replication into this region's replica of every table",
      };
    case "lambda-errors":
      return {
        ...lambda,
        actionId: "aws:lambda:invocation-error",
        parameters: { duration, invocationPercentage: "100", preventExecution: "true" },
        description: "Fail every invocation of this region's functions without running them",
      };
    case "lambda-latency":
      return {
        ...lambda,
        actionId: "aws:lambda:invocation-add-delay",
        parameters: {
          duration,
          invocationPercentage: "100",
          startupDelayMilliseconds: String(o.lambdaDelayMs),
        },
        description: `Start every invocation of this region's functions ${o.lambdaDelayMs} ms late`,
      };
    case "api-unavailable":
      return {
        ...lambda,
        actionId: "aws:lambda:invocation-http-integration-response",
        parameters: {
          duration,
          invocationPercentage: "100",
          preventExecution: "true",
          statusCode: "503",
          contentTypeHeader: "application/json",
        },
        description: "Answer 503 from every function behind this region's API without running it",
      };
  }
}

/** What one fault's role may touch in one region. */
export interface FisRoleInput {
  readonly region: string;
  readonly accountId: string;
  /** @default "aws" */
  readonly partition?: string;
  /** This region's replica of every table (replication-pause). */
  readonly tableArns: readonly string[];
  /** This region's functions (Lambda faults). */
  readonly functionArns: readonly string[];
  /** The region's FIS configuration bucket (Lambda faults). */
  readonly configBucketArn?: string;
  /** The experiment log group's ARN (without `:*`). */
  readonly logGroupArn: string;
  /**
   * The tables are MRSC global tables: pausing their replication also needs
   * `dynamodb:InjectError` (FIS actions reference, aws:dynamodb:global-table-pause-replication).
   */
  readonly strongConsistency?: boolean;
}

function sorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/**
 * The policy of one fault's experiment role: the permissions its action lists in the FIS actions
 * reference, on this region's exact tables (and their streams, whose policy the pause also
 * edits) or functions and the region's configuration folder; `tag:GetResources` (FIS resolves
 * targets through it; no resource-level permission); and the vended-logs permissions CloudWatch
 * Logs asks of whoever sets up log delivery to a log group, which have no resource-level
 * permission either (CloudWatch Logs user guide, "Logs sent to CloudWatch Logs").
 */
export function fisRolePolicy(fault: ChaosFault, input: FisRoleInput): PolicyDocument {
  const statements: PolicyStatement[] = [];
  if (fault === "replication-pause") {
    if (input.tableArns.length === 0) throw new Error(`${fault}: no table ARNs in ${input.region}`);
    const tables = sorted(input.tableArns);
    statements.push({
      Sid: "PauseReplicationThroughResourcePolicies",
      Effect: "Allow",
      Action: [
        "dynamodb:DeleteResourcePolicy",
        "dynamodb:DescribeTable",
        "dynamodb:GetResourcePolicy",
        "dynamodb:PutResourcePolicy",
      ],
      Resource: [...tables, ...tables.map((t) => `${t}/stream/*`)],
    });
    if (input.strongConsistency) {
      statements.push({
        Sid: "PauseMrscReplication",
        Effect: "Allow",
        Action: ["dynamodb:InjectError"],
        Resource: tables,
      });
    }
  } else {
    if (input.functionArns.length === 0) {
      throw new Error(`${fault}: no function ARNs in ${input.region}`);
    }
    if (!input.configBucketArn) {
      throw new Error(`${fault}: no FIS configuration bucket in ${input.region}`);
    }
    statements.push(
      {
        Sid: "WriteFaultConfigurations",
        Effect: "Allow",
        Action: ["s3:DeleteObject", "s3:PutObject"],
        Resource: [`${input.configBucketArn}/${FIS_CONFIG_PREFIX}/*`],
      },
      {
        Sid: "InspectTargetFunctions",
        Effect: "Allow",
        Action: ["lambda:GetFunction"],
        Resource: sorted(input.functionArns),
      },
    );
  }
  statements.push(
    { Sid: "ResolveTargets", Effect: "Allow", Action: ["tag:GetResources"], Resource: ["*"] },
    {
      Sid: "DeliverExperimentLogs",
      Effect: "Allow",
      Action: [
        "logs:CreateLogDelivery",
        "logs:DescribeLogGroups",
        "logs:DescribeResourcePolicies",
        "logs:PutResourcePolicy",
      ],
      Resource: ["*"],
    },
  );
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * Trust policy of an experiment role: FIS only, only for experiments of this account in this
 * region (aws:SourceAccount and aws:SourceArn, the confused-deputy guard AWS documents for FIS
 * experiment roles).
 */
export function fisTrustPolicy(accountId: string, region: string, partition = "aws"): object {
  if (!/^\d{12}$/.test(accountId)) {
    throw new Error(
      `fisTrustPolicy: account id must be 12 digits: got ${JSON.stringify(accountId)}`,
    );
  }
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "fis.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": accountId },
          ArnLike: { "aws:SourceArn": `arn:${partition}:fis:${region}:${accountId}:experiment/*` },
        },
      },
    ],
  };
}

/** What a function's own role needs so the FIS extension can read its fault configurations. */
export function fisExtensionReadPolicy(configBucketArn: string): PolicyDocument & {
  Statement: (PolicyStatement & { Condition?: object })[];
} {
  if (!/^arn:aws[a-z-]*:s3:::[a-z0-9.-]{3,63}$/.test(configBucketArn)) {
    throw new Error(`fisExtensionReadPolicy: not a bucket ARN: ${configBucketArn}`);
  }
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ListFaultConfigurations",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [configBucketArn],
        Condition: { StringLike: { "s3:prefix": [`${FIS_CONFIG_PREFIX}/*`] } },
      },
      {
        Sid: "ReadFaultConfigurations",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: [`${configBucketArn}/${FIS_CONFIG_PREFIX}/*`],
      },
    ],
  };
}

/** The environment the FIS extension needs on a function (use-lambda-actions.html). */
export function fisExtensionEnvironment(configBucketArn: string): Record<string, string> {
  return {
    AWS_FIS_CONFIGURATION_LOCATION: `${configBucketArn}/${FIS_CONFIG_PREFIX}/`,
    AWS_LAMBDA_EXEC_WRAPPER: FIS_EXTENSION_WRAPPER,
  };
}

/** Stop conditions of a template in `region`: 1 to 5 alarm ARNs of that region. */
export function checkStopAlarms(region: string, alarmArns: readonly string[]): string[] {
  if (alarmArns.length < 1 || alarmArns.length > MAX_STOP_CONDITIONS) {
    throw new Error(
      `stop alarms in ${region}: need 1 to ${MAX_STOP_CONDITIONS} alarm ARNs (FIS quota), got ${alarmArns.length}`,
    );
  }
  for (const arn of alarmArns) {
    const m = /^arn:aws[a-z-]*:cloudwatch:([a-z0-9-]+):\d{12}:alarm:.+$/.exec(arn);
    if (!m) throw new Error(`stop alarm ${JSON.stringify(arn)} is not a CloudWatch alarm ARN`);
    if (m[1] !== region) {
      throw new Error(
        `stop alarm ${arn} is in ${m[1]}, not ${region}: a template's stop conditions watch alarms of its own region`,
      );
    }
  }
  return [...alarmArns];
}
