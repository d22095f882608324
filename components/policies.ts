/**
 * IAM policy documents as pure data, so tests and reviewers can read exactly what each role may do.
 */
export interface PolicyStatement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string[];
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

function sid(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, "");
}

/**
 * One statement per table `access` lists (table key -> DynamoDB actions): those actions, sorted,
 * on that table's ARN in `tableArns` and nothing else. Throws when a table has no ARN.
 */
export function tableAccessStatements(
  access: Readonly<Record<string, readonly string[]>>,
  tableArns: Readonly<Record<string, string>>,
): PolicyStatement[] {
  return Object.entries(access).map(([table, actions]) => {
    const arn = tableArns[table];
    if (!arn) throw new Error(`no table ARN for ${table} in this region`);
    return {
      Sid: sid(`Dynamo ${table}`),
      Effect: "Allow",
      Action: [...actions].sort(),
      Resource: [arn],
    };
  });
}

/**
 * The policy of one function's role: the DynamoDB actions `access` lists, on its region's replica
 * of each table it uses and nothing else; writes to its own log group; X-Ray segments (X-Ray has
 * no resource-level permissions, so that statement alone names `*` as resource).
 */
export function functionPolicy(
  access: Readonly<Record<string, readonly string[]>>,
  tableArns: Readonly<Record<string, string>>,
  logGroupArn: string,
): PolicyDocument {
  const statements: PolicyStatement[] = tableAccessStatements(access, tableArns);
  statements.push(writeOwnLogsStatement(logGroupArn), xraySegmentsStatement());
  return { Version: "2012-10-17", Statement: statements };
}

/** Writes to one log group's streams: every function's own. */
export function writeOwnLogsStatement(logGroupArn: string): PolicyStatement {
  return {
    Sid: "WriteOwnLogs",
    Effect: "Allow",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
    Resource: [`${logGroupArn}:*`],
  };
}

/** X-Ray segments, which have no resource-level permissions. */
export function xraySegmentsStatement(): PolicyStatement {
  return {
    Sid: "XRaySegments",
    Effect: "Allow",
    Action: ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
    Resource: ["*"],
  };
}

/**
 * Trust policy that lets one AWS service assume a role, only on behalf of a resource of this
 * account (`aws:SourceAccount`: the confused-deputy guard AWS recommends for service roles).
 */
export function serviceTrustPolicy(service: string, accountId?: string): object {
  if (accountId !== undefined && !/^\d{12}$/.test(accountId)) {
    throw new Error(
      `serviceTrustPolicy: account id must be 12 digits: got ${JSON.stringify(accountId)}`,
    );
  }
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        ...(accountId ? { Condition: { StringEquals: { "aws:SourceAccount": accountId } } } : {}),
      },
    ],
  };
}

/** A statement that may carry a condition (the canary's PutMetricData needs one). */
export interface ConditionalPolicyStatement extends PolicyStatement {
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface CanaryPolicyInput {
  /** execute-api ARNs the canaries call, method and path included (see canaryInvokeArns). */
  readonly invokeArns: readonly string[];
  /** ARN of the artifacts bucket. */
  readonly bucketArn: string;
  /** Key prefix the canaries write run artifacts under, without slashes at either end. */
  readonly artifactPrefix: string;
  /** Names of the canaries that use the role: their Lambda log groups are `cwsyn-<name>-*`. */
  readonly canaryNames: readonly string[];
  readonly region: string;
  readonly accountId: string;
  /** @default "aws" */
  readonly partition?: string;
  /** Customer-managed key of the artifacts bucket: the role may encrypt with it. @default none */
  readonly kmsKeyArn?: string;
}

/** Namespace Synthetics publishes canary metrics to; the only one a canary role may write. */
export const SYNTHETICS_NAMESPACE = "CloudWatchSynthetics";

/**
 * The policy of a region's canary role: invoke exactly the API methods the canary script calls;
 * write run artifacts under one prefix of one bucket (and find the bucket's region); write to the
 * canaries' own Lambda log groups, which the fleet creates (with retention) so the role may not;
 * publish metrics only in the CloudWatchSynthetics namespace; use the bucket's key, if it has one.
 * `s3:ListAllMyBuckets` and `cloudwatch:PutMetricData` have no resource-level permissions, so
 * they alone name `*` as resource, the latter limited by a namespace condition. This is the
 * statement list AWS documents for canaries, narrowed to named resources.
 */
export function canaryPolicy(input: CanaryPolicyInput): {
  Version: string;
  Statement: ConditionalPolicyStatement[];
} {
  if (input.invokeArns.length === 0) throw new Error("canaryPolicy: no execute-api ARN to invoke");
  if (input.canaryNames.length === 0) throw new Error("canaryPolicy: no canary names");
  const partition = input.partition ?? "aws";
  const prefix = input.artifactPrefix.replace(/^\/+|\/+$/g, "");
  if (!prefix) throw new Error("canaryPolicy: artifactPrefix must not be empty");
  for (const arn of input.invokeArns) {
    if (
      !/^arn:[a-z-]+:execute-api:[a-z0-9-]+:\d{12}:[A-Za-z0-9-]+\/[^*/]+\/(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)\//.test(
        arn,
      )
    ) {
      throw new Error(
        `canaryPolicy: ${arn} is not an execute-api ARN naming an API, a stage and a method`,
      );
    }
  }
  const logGroup = (name: string) =>
    `arn:${partition}:logs:${input.region}:${input.accountId}:log-group:/aws/lambda/cwsyn-${name}-*`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "InvokeCheckedApis",
        Effect: "Allow",
        Action: ["execute-api:Invoke"],
        Resource: [...new Set(input.invokeArns)].sort(),
      },
      {
        Sid: "WriteArtifacts",
        Effect: "Allow",
        Action: ["s3:PutObject"],
        Resource: [`${input.bucketArn}/${prefix}/*`],
      },
      {
        Sid: "LocateArtifactsBucket",
        Effect: "Allow",
        Action: ["s3:GetBucketLocation"],
        Resource: [input.bucketArn],
      },
      {
        Sid: "ListBuckets",
        Effect: "Allow",
        Action: ["s3:ListAllMyBuckets"],
        Resource: ["*"],
      },
      {
        Sid: "WriteCanaryLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [...new Set(input.canaryNames)].sort().map(logGroup),
      },
      {
        Sid: "PublishSyntheticsMetrics",
        Effect: "Allow",
        Action: ["cloudwatch:PutMetricData"],
        Resource: ["*"],
        Condition: { StringEquals: { "cloudwatch:namespace": SYNTHETICS_NAMESPACE } },
      },
      ...(input.kmsKeyArn
        ? [
            {
              Sid: "EncryptArtifacts",
              Effect: "Allow" as const,
              Action: ["kms:Decrypt", "kms:GenerateDataKey"],
              Resource: [input.kmsKeyArn],
            },
          ]
        : []),
    ],
  };
}

/**
 * A bucket policy that refuses every request not made over TLS (`aws:SecureTransport` false), the
 * form AWS documents for S3; it grants nothing, so it never makes a bucket public.
 */
export function tlsOnlyBucketPolicy(bucketArn: string): object {
  if (!/^arn:aws[a-z-]*:s3:::[a-z0-9.-]{3,63}$/.test(bucketArn)) {
    throw new Error(`tlsOnlyBucketPolicy: not a bucket ARN: ${bucketArn}`);
  }
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}
