/**
 * The guardrails as pure functions over resource type and properties, so the tests call them on
 * the resources the mocks record and `index.ts` wraps them as CrossGuard policies. Nothing here
 * imports Pulumi or the program: the pack checks any stack, ours or another team's.
 *
 * During a preview, a property that depends on a resource not created yet is unknown; `get`
 * treats it as absent, and links between resources (a bucket's public access block, a method's
 * API resource) are then followed through the property's dependencies instead of its value.
 */

/** One resource as a policy sees it. */
export interface ResourceView {
  readonly type: string;
  readonly urn: string;
  readonly name: string;
  /** Inputs, plus outputs once they are known. */
  readonly props: Record<string, any>;
  /** The provider id, where known (the mocks know it; a policy pack does not). */
  readonly id?: string;
  /** URNs of the resources each property's value comes from. */
  readonly deps?: Readonly<Record<string, readonly string[]>>;
}

export interface Violation {
  readonly urn: string;
  readonly message: string;
}

export interface ResourceRule {
  readonly name: string;
  readonly description: string;
  readonly types: readonly string[];
  /** Problems with one resource; empty when it complies. */
  readonly check: (r: ResourceView) => string[];
}

export interface StackRule {
  readonly name: string;
  readonly description: string;
  /** Problems across the stack's resources; empty when they comply. */
  readonly checkStack: (resources: readonly ResourceView[]) => Violation[];
}

export type Rule = ResourceRule | StackRule;

export const T = {
  table: "aws:dynamodb/table:Table",
  replica: "aws:dynamodb/tableReplica:TableReplica",
  bucket: "aws:s3/bucket:Bucket",
  bucketV2: "aws:s3/bucketV2:BucketV2",
  bucketSse:
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  bucketSseV2:
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  topic: "aws:sns/topic:Topic",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  policy: "aws:iam/policy:Policy",
  attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  method: "aws:apigateway/method:Method",
  apiResource: "aws:apigateway/resource:Resource",
  restApi: "aws:apigateway/restApi:RestApi",
  stage: "aws:apigateway/stage:Stage",
  methodSettings: "aws:apigateway/methodSettings:MethodSettings",
  domainName: "aws:apigateway/domainName:DomainName",
  lambda: "aws:lambda/function:Function",
  canary: "aws:synthetics/canary:Canary",
  fisTemplate: "aws:fis/experimentTemplate:ExperimentTemplate",
} as const;

/** Reads a nested property; undefined when absent or not known yet (preview). */
export function get(obj: unknown, ...path: (string | number)[]): any {
  let value: any = obj;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    try {
      value = value[key];
    } catch {
      return undefined; // @pulumi/policy throws on reading an unknown value
    }
  }
  return value;
}

export const list = <V>(v: V | V[] | undefined): V[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** True when `r`'s property `prop` is `target` (its id or physical name) or comes from it. */
export function refersTo(r: ResourceView, prop: string, target: ResourceView): boolean {
  const value = get(r.props, prop);
  if (value !== undefined) {
    const ids = [target.id, get(target.props, "bucket"), get(target.props, "id")];
    if (ids.some((id) => id !== undefined && id === value)) return true;
  }
  return r.deps?.[prop]?.includes(target.urn) ?? false;
}

// ---------------------------------------------------------------- DynamoDB

function tableProblems(r: ResourceView, what: "pitr" | "deletion"): string[] {
  const problems: string[] = [];
  if (r.type === T.replica) {
    const on =
      what === "pitr"
        ? get(r.props, "pointInTimeRecovery")
        : get(r.props, "deletionProtectionEnabled");
    if (on !== true) problems.push(`table replica ${r.name}: ${WHAT[what]} is not on`);
    return problems;
  }
  const on =
    what === "pitr"
      ? get(r.props, "pointInTimeRecovery", "enabled")
      : get(r.props, "deletionProtectionEnabled");
  if (on !== true) problems.push(`table ${r.name}: ${WHAT[what]} is not on`);
  for (const replica of list(get(r.props, "replicas"))) {
    const key = what === "pitr" ? "pointInTimeRecovery" : "deletionProtectionEnabled";
    if (get(replica, key) !== true) {
      problems.push(
        `table ${r.name}: replica in ${get(replica, "regionName") ?? "?"} has ${WHAT[what]} off`,
      );
    }
  }
  return problems;
}
const WHAT = { pitr: "point-in-time recovery", deletion: "deletion protection" } as const;

export const dynamodbPitr: ResourceRule = {
  name: "dynamodb-pitr",
  description: "Every DynamoDB table and every replica has point-in-time recovery on.",
  types: [T.table, T.replica],
  check: (r) => tableProblems(r, "pitr"),
};

export const dynamodbDeletionProtection: ResourceRule = {
  name: "dynamodb-deletion-protection",
  description: "Every DynamoDB table and every replica has deletion protection on.",
  types: [T.table, T.replica],
  check: (r) => tableProblems(r, "deletion"),
};

export const dynamodbEncryption: ResourceRule = {
  name: "dynamodb-kms-encryption",
  description:
    "Every DynamoDB table is encrypted with KMS (the AWS-managed key or a customer key), never the AWS-owned default.",
  types: [T.table],
  check: (r) =>
    get(r.props, "serverSideEncryption", "enabled") === true
      ? []
      : [`table ${r.name}: serverSideEncryption.enabled is not true (AWS-owned key only)`],
};

// ---------------------------------------------------------------- S3

const BUCKETS: readonly string[] = [T.bucket, T.bucketV2];

/** Each bucket of the stack that no resource of `types` (passing `ok`) refers to. */
function bucketsWithout(
  resources: readonly ResourceView[],
  types: readonly string[],
  ok: (r: ResourceView) => boolean,
  message: (bucket: ResourceView) => string,
  inline?: (bucket: ResourceView) => boolean,
): Violation[] {
  const companions = resources.filter((r) => types.includes(r.type));
  return resources
    .filter((b) => BUCKETS.includes(b.type))
    .filter((b) => !(inline?.(b) ?? false))
    .filter((b) => !companions.some((c) => refersTo(c, "bucket", b) && ok(c)))
    .map((b) => ({ urn: b.urn, message: message(b) }));
}

export const s3Encryption: StackRule = {
  name: "s3-encryption",
  description: "Every S3 bucket has default encryption configured (SSE-S3 or SSE-KMS).",
  checkStack: (resources) =>
    bucketsWithout(
      resources,
      [T.bucketSse, T.bucketSseV2],
      (c) =>
        list(get(c.props, "rules")).some(
          (rule) => get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") !== undefined,
        ),
      (b) => `bucket ${b.name}: no default encryption configuration`,
      (b) => get(b.props, "serverSideEncryptionConfiguration", "rule") !== undefined,
    ),
};

export const s3PublicAccessBlock: StackRule = {
  name: "s3-public-access-block",
  description: "Every S3 bucket has a public access block with all four settings on.",
  checkStack: (resources) =>
    bucketsWithout(
      resources,
      [T.publicAccessBlock],
      (c) =>
        ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
          (k) => get(c.props, k) === true,
        ),
      (b) => `bucket ${b.name}: no public access block with all four settings on`,
    ),
};

/** True when a bucket policy denies every request made without TLS, on the bucket and its objects. */
export function deniesInsecureTransport(policy: unknown): boolean {
  return statements(policy).some((s) => {
    const resources = list(s.Resource).map(String);
    return (
      s.Effect === "Deny" &&
      (s.Principal === "*" || get(s.Principal, "AWS") === "*") &&
      list(s.Action).some((a) => a === "s3:*" || a === "*") &&
      String(get(s.Condition, "Bool", "aws:SecureTransport")) === "false" &&
      resources.some((r) => r.endsWith("/*")) &&
      resources.some((r) => !r.endsWith("/*"))
    );
  });
}

export const s3TlsOnly: StackRule = {
  name: "s3-tls-only",
  description:
    "Every S3 bucket has a policy that denies requests without TLS (aws:SecureTransport false).",
  checkStack: (resources) =>
    bucketsWithout(
      resources,
      [T.bucketPolicy],
      (c) => deniesInsecureTransport(get(c.props, "policy")),
      (b) => `bucket ${b.name}: no bucket policy denying aws:SecureTransport false`,
    ),
};

// ---------------------------------------------------------------- logs, SNS, keys

export const logGroupRetention: ResourceRule = {
  name: "log-group-retention",
  description: "Every CloudWatch log group has a retention period (none keeps logs forever).",
  types: [T.logGroup],
  check: (r) => {
    const days = get(r.props, "retentionInDays");
    return typeof days === "number" && days > 0
      ? []
      : [`log group ${r.name}: no retentionInDays (its logs would be kept forever)`];
  },
};

export const snsEncryption: ResourceRule = {
  name: "sns-encryption",
  description: "Every SNS topic is encrypted with a KMS key.",
  types: [T.topic],
  check: (r) =>
    get(r.props, "kmsMasterKeyId") ? [] : [`topic ${r.name}: no kmsMasterKeyId (unencrypted)`],
};

const regionOf = (r: ResourceView): string | undefined => get(r.props, "region");

/** Regions where the stack encrypts data with a customer-managed KMS key. */
export function customerKeyRegions(resources: readonly ResourceView[]): Set<string> {
  const regions = new Set<string>();
  const arnRegion = (arn: unknown) =>
    typeof arn === "string" ? /^arn:[^:]+:kms:([^:]+):/.exec(arn)?.[1] : undefined;
  for (const r of resources) {
    const keys: unknown[] = [];
    if (r.type === T.table) {
      keys.push(get(r.props, "serverSideEncryption", "kmsKeyArn"));
      for (const replica of list(get(r.props, "replicas"))) keys.push(get(replica, "kmsKeyArn"));
    } else if (r.type === T.bucketSse || r.type === T.bucketSseV2) {
      for (const rule of list(get(r.props, "rules"))) {
        keys.push(get(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"));
      }
    }
    for (const k of keys) {
      const region = arnRegion(k);
      if (region) regions.add(region);
    }
  }
  return regions;
}

export const logGroupKms: StackRule = {
  name: "log-group-kms",
  description:
    "Where the stack uses a customer-managed KMS key in a region (tables, replicas, buckets), every log group in that region is encrypted with a key too.",
  checkStack: (resources) => {
    const keyed = customerKeyRegions(resources);
    return resources
      .filter((r) => r.type === T.logGroup && keyed.has(regionOf(r) ?? ""))
      .filter((r) => !get(r.props, "kmsKeyId"))
      .map((r) => ({
        urn: r.urn,
        message: `log group ${r.name}: no kmsKeyId, but this stack uses a customer-managed key in ${regionOf(r)}`,
      }));
  },
};

// ---------------------------------------------------------------- policy documents

/** An IAM statement as written in a policy document (fields as AWS spells them). */
export interface Statement {
  Effect?: string;
  Principal?: any;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

/** The statements of a policy document given as JSON text or an object; [] when unknown. */
export function statements(policy: unknown): Statement[] {
  let doc: unknown = policy;
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch {
      return [];
    }
  }
  return list(get(doc, "Statement")) as Statement[];
}
