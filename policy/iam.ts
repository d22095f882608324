/**
 * IAM guardrails: no wildcard action, a `*` resource only for the actions AWS gives no
 * resource-level permission, AWS-managed policies only from a short reviewed list, and service
 * trust policies limited to this account (`aws:SourceAccount`).
 */
import { T, get, statements, type ResourceRule, type ResourceView, type Statement } from "./rules";

/**
 * Actions that have no resource-level permissions in IAM (the Service Authorization Reference
 * lists `*` as their only resource type), so a statement may give them `Resource: "*"`.
 * `cloudwatch:PutMetricData` only with a `cloudwatch:namespace` condition.
 */
export const STAR_RESOURCE_ACTIONS: readonly string[] = [
  "s3:ListAllMyBuckets",
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "xray:GetSamplingRules",
  "xray:GetSamplingTargets",
  "cloudwatch:PutMetricData",
  // FIS resolves experiment targets through the tagging API (fis-actions-reference.html).
  "tag:GetResources",
  // Vended-log delivery, which FIS experiment logging sets up (CloudWatch Logs user guide,
  // "Logs sent to CloudWatch Logs"): no resource-level permissions.
  "logs:CreateLogDelivery",
  "logs:DescribeLogGroups",
  "logs:DescribeResourcePolicies",
  "logs:PutResourcePolicy",
];

/**
 * AWS-managed policies a role may attach. The API Gateway account-level logging role is one per
 * account and region and serves every API there, so AWS documents this managed policy for it.
 */
export const ALLOWED_MANAGED_POLICIES: readonly RegExp[] = [
  /^arn:aws[a-z-]*:iam::aws:policy\/service-role\/AmazonAPIGatewayPushToCloudWatchLogs$/,
];

const asList = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** What is wrong with one permission statement (Deny statements only narrow, so pass). */
export function statementProblems(s: Statement): string[] {
  if (s.Effect !== "Allow") return [];
  const problems: string[] = [];
  const actions = asList(s.Action);
  if (s.NotAction !== undefined) problems.push("uses NotAction (allows everything else)");
  if (s.NotResource !== undefined) problems.push("uses NotResource (allows everything else)");
  for (const a of actions) if (a.includes("*")) problems.push(`wildcard action ${a}`);
  if (asList(s.Resource).includes("*")) {
    const scoped = actions.filter((a) => !STAR_RESOURCE_ACTIONS.includes(a));
    if (scoped.length) {
      problems.push(
        `Resource "*" for ${scoped.join(", ")}, which support resource-level permissions`,
      );
    }
    if (
      actions.includes("cloudwatch:PutMetricData") &&
      get(s.Condition, "StringEquals", "cloudwatch:namespace") === undefined &&
      get(s.Condition, "StringLike", "cloudwatch:namespace") === undefined
    ) {
      problems.push('cloudwatch:PutMetricData on "*" without a cloudwatch:namespace condition');
    }
  }
  return problems;
}

function documentProblems(where: string, policy: unknown): string[] {
  return statements(policy).flatMap((s, i) =>
    statementProblems(s).map(
      (p) => `${where}, statement ${(s as { Sid?: string }).Sid ?? i}: ${p}`,
    ),
  );
}

export const iamLeastPrivilege: ResourceRule = {
  name: "iam-least-privilege",
  description:
    "No IAM policy allows a wildcard action, NotAction or NotResource, or a * resource except for actions without resource-level permissions; AWS-managed policies only from the reviewed list.",
  types: [T.role, T.rolePolicy, T.policy, T.attachment],
  check: (r: ResourceView) => {
    const problems: string[] = [];
    if (r.type === T.rolePolicy || r.type === T.policy) {
      problems.push(...documentProblems(`policy ${r.name}`, get(r.props, "policy")));
    }
    if (r.type === T.role) {
      for (const inline of asList(get(r.props, "inlinePolicies"))) {
        problems.push(
          ...documentProblems(
            `role ${r.name} inline ${get(inline, "name")}`,
            get(inline, "policy"),
          ),
        );
      }
    }
    const managed = [
      ...(r.type === T.role ? asList(get(r.props, "managedPolicyArns")) : []),
      ...(r.type === T.attachment ? asList(get(r.props, "policyArn")) : []),
    ];
    for (const arn of managed) {
      if (
        /:iam::aws:policy\//.test(String(arn)) &&
        !ALLOWED_MANAGED_POLICIES.some((p) => p.test(String(arn)))
      ) {
        problems.push(`${r.name}: AWS-managed policy ${arn} is not on the reviewed list`);
      }
    }
    return problems;
  },
};

export const iamServiceTrust: ResourceRule = {
  name: "iam-service-trust-source-account",
  description:
    "A role that an AWS service assumes trusts it only on behalf of this account (aws:SourceAccount), and no role trusts everyone.",
  types: [T.role],
  check: (r) => {
    const problems: string[] = [];
    for (const s of statements(get(r.props, "assumeRolePolicy"))) {
      if (s.Effect !== "Allow") continue;
      if (s.Principal === "*" || get(s.Principal, "AWS") === "*") {
        problems.push(`role ${r.name}: trust policy allows any principal`);
        continue;
      }
      if (get(s.Principal, "Service") === undefined) continue;
      const account = ["StringEquals", "StringLike"].some(
        (op) => get(s.Condition, op, "aws:SourceAccount") !== undefined,
      );
      if (!account) {
        problems.push(
          `role ${r.name}: service trust for ${JSON.stringify(get(s.Principal, "Service"))} has no aws:SourceAccount condition`,
        );
      }
    }
    return problems;
  },
};
