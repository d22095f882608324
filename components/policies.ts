/**
 * IAM policy documents as pure data, so tests and reviewers can read exactly what each role may do.
 */
import type { FunctionSpec } from "../functions/routes";
import type { TableKey } from "../functions/tables";

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
 * The policy of one function's role: the DynamoDB actions its spec lists, on its region's replica
 * of each table it uses and nothing else; writes to its own log group; X-Ray segments (X-Ray has
 * no resource-level permissions, so that statement alone names `*` as resource).
 */
export function functionPolicy(
  spec: FunctionSpec,
  tableArns: Readonly<Record<TableKey, string>>,
  logGroupArn: string,
): PolicyDocument {
  const statements: PolicyStatement[] = [];
  for (const [table, actions] of Object.entries(spec.access) as [TableKey, readonly string[]][]) {
    const arn = tableArns[table];
    if (!arn) throw new Error(`no table ARN for ${table} in this region`);
    statements.push({
      Sid: sid(`Dynamo ${table}`),
      Effect: "Allow",
      Action: [...actions].sort(),
      Resource: [arn],
    });
  }
  statements.push({
    Sid: "WriteOwnLogs",
    Effect: "Allow",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
    Resource: [`${logGroupArn}:*`],
  });
  statements.push({
    Sid: "XRaySegments",
    Effect: "Allow",
    Action: ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
    Resource: ["*"],
  });
  return { Version: "2012-10-17", Statement: statements };
}

/** Trust policy that lets one AWS service assume a role, limited to this account. */
export function serviceTrustPolicy(service: string, accountId?: string): object {
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
