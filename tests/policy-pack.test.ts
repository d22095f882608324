/**
 * The CrossGuard pack (policy/): every rule over every resource of both stacks and their variants
 * under the mocks finds nothing; and for each rule, a resource that breaks it is reported, so no
 * rule is a check that cannot fail.
 */
import { expect } from "chai";
import { RULES, runRule } from "../policy/guardrails";
import { methodPath } from "../policy/api";
import { T, type ResourceView, type Violation } from "../policy/rules";
import type { StackEvaluation } from "../tools/evaluate-stack";
import {
  KMS_TEST_KEYS,
  OTHER_IDS_AND_CORS,
  REGION1_KEYS,
  REGION2_KEYS,
  sharedEvaluation,
} from "./support/stacks";

const KEYS = KMS_TEST_KEYS;
/** The resources a mock evaluation recorded, as the rules see them. */
export function views(run: StackEvaluation): ResourceView[] {
  return run.engine.resources.map((r) => ({
    type: r.type,
    urn: r.urn,
    name: r.name,
    props: r.state,
    id: r.id,
  }));
}

const allViolations = (resources: ResourceView[]): Record<string, Violation[]> =>
  Object.fromEntries(RULES.map((rule) => [rule.name, runRule(rule, resources)]));

describe("policy pack over both stacks and their variants", function () {
  this.timeout(600_000);
  const runs: [string, StackEvaluation][] = [];

  before(async () => {
    const onRegion1 = { region1: {} };
    runs.push(["region1", await sharedEvaluation("region1")]);
    runs.push(["region2 (routing arc)", await sharedEvaluation("region2", {}, onRegion1)]);
    runs.push([
      "region2 with ARC readiness",
      await sharedEvaluation("region2", { arcReadiness: "true" }, onRegion1),
    ]);
    runs.push([
      "region2 routing healthcheck",
      await sharedEvaluation("region2", { routing: "healthcheck" }, onRegion1),
    ]);
    runs.push([
      "region1 with CORS and other canary ids",
      await sharedEvaluation("region1", OTHER_IDS_AND_CORS),
    ]);
    runs.push(["region1 with customer keys", await sharedEvaluation("region1", REGION1_KEYS)]);
    const fis = { fisLambdaExtension: "true" };
    runs.push([
      "region2 with FIS chaos experiments",
      await sharedEvaluation("region2", { ...fis, chaosExperiments: "true" }, { region1: fis }),
    ]);
    runs.push([
      "region2 with FIS chaos experiments and customer keys",
      await sharedEvaluation(
        "region2",
        { ...REGION2_KEYS, ...fis, chaosExperiments: "true" },
        { region1: { ...REGION1_KEYS, ...fis } },
      ),
    ]);
    runs.push([
      "region1 strong (MRSC, witness us-east-2)",
      await sharedEvaluation("region1", { consistency: "strong", witnessRegion: "us-east-2" }),
    ]);
    runs.push([
      "region2 strong",
      await sharedEvaluation(
        "region2",
        { consistency: "strong" },
        { region1: { consistency: "strong", witnessRegion: "us-east-2" } },
      ),
    ]);
    runs.push([
      "region2 with customer keys",
      await sharedEvaluation("region2", REGION2_KEYS, { region1: REGION1_KEYS }),
    ]);
  });

  it("evaluates stacks that exercise every rule's resource types", () => {
    const types = new Set(runs.flatMap(([, run]) => run.engine.resources.map((r) => r.type)));
    for (const t of [
      T.table,
      T.bucket,
      T.bucketSse,
      T.publicAccessBlock,
      T.bucketPolicy,
      T.logGroup,
      T.role,
      T.rolePolicy,
      T.method,
      T.domainName,
      T.lambda,
      T.canary,
      T.methodSettings,
      T.fisTemplate,
      "aws:sqs/queue:Queue",
      "aws:lambda/eventSourceMapping:EventSourceMapping",
    ]) {
      expect(types.has(t), t).to.equal(true);
    }
  });

  it("finds no violation of any rule in any of them", () => {
    for (const [what, run] of runs) {
      const found = allViolations(views(run));
      const expected = Object.fromEntries(RULES.map((r) => [r.name, []]));
      expect(found, what).to.deep.equal(expected);
    }
  });

  it("resolves the path of every API method from the recorded resources", () => {
    for (const [what, run] of runs) {
      const resources = views(run);
      const paths = resources
        .filter((r) => r.type === T.method)
        .map((m) => `${m.props["httpMethod"]} ${methodPath(m, resources)}`);
      expect(paths, what).to.include("GET /health").and.include("GET /orders/{orderId}");
      expect(
        paths.filter((p) => p.includes("undefined")),
        what,
      ).to.deep.equal([]);
    }
  });
});

// ---------------------------------------------------------------- one breaking case per rule

let seq = 0;
function res(
  type: string,
  props: Record<string, any>,
  extra: Partial<ResourceView> = {},
): ResourceView {
  const name = extra.name ?? `r${++seq}`;
  return {
    type,
    urn: `urn:pulumi:test::p::${type}::${name}`,
    name,
    props,
    id: `${name}-id`,
    ...extra,
  };
}

const goodTable = () =>
  res(T.table, {
    region: "us-east-1",
    pointInTimeRecovery: { enabled: true },
    deletionProtectionEnabled: true,
    serverSideEncryption: { enabled: true },
    replicas: [
      { regionName: "us-west-2", pointInTimeRecovery: true, deletionProtectionEnabled: true },
    ],
  });

function bucketStack(overrides: { sse?: any; pab?: any; policy?: any } = {}): ResourceView[] {
  const bucket = res(T.bucket, { region: "us-east-1" });
  const id = bucket.id as string;
  return [
    bucket,
    res(T.bucketSse, {
      bucket: id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      ...overrides.sse,
    }),
    res(T.publicAccessBlock, {
      bucket: id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
      ...overrides.pab,
    }),
    res(T.bucketPolicy, {
      bucket: id,
      policy: JSON.stringify({
        Statement: [
          {
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [`arn:aws:s3:::${id}`, `arn:aws:s3:::${id}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
      ...overrides.policy,
    }),
  ];
}

const policyOf = (statement: Record<string, unknown>) =>
  res(T.rolePolicy, { policy: JSON.stringify({ Statement: [statement] }) });

/** A REST API with /health and /orders, and one method on `path`. */
function apiStack(
  verb: string,
  path: "/health" | "/orders",
  authorization: string,
): ResourceView[] {
  const api = res(T.restApi, { rootResourceId: "root-1" });
  const health = res(T.apiResource, { pathPart: "health", parentId: "root-1" });
  const orders = res(T.apiResource, { pathPart: "orders", parentId: "root-1" });
  const target = path === "/health" ? health : orders;
  return [
    api,
    health,
    orders,
    res(T.method, { httpMethod: verb, authorization, resourceId: target.id }),
  ];
}

/** A compliant event source mapping on a DynamoDB stream, with some properties changed. */
function streamMapping(patch: Record<string, unknown> = {}): ResourceView {
  return res(
    "aws:lambda/eventSourceMapping:EventSourceMapping",
    {
      eventSourceArn: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026",
      startingPosition: "TRIM_HORIZON",
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 5,
      destinationConfig: { onFailure: { destinationArn: "arn:aws:sqs:us-east-1:000000000000:q" } },
      ...patch,
    },
    { name: "m" },
  );
}

interface Case {
  readonly what: string;
  readonly resources: () => ResourceView[];
  readonly message: RegExp;
}

const CASES: Record<string, Case[]> = {
  "dynamodb-pitr": [
    {
      what: "a table without PITR",
      resources: () => [
        res(T.table, { ...goodTable().props, pointInTimeRecovery: { enabled: false } }),
      ],
      message: /point-in-time recovery is not on/,
    },
    {
      what: "a replica without PITR",
      resources: () => [
        res(T.table, {
          ...goodTable().props,
          replicas: [
            {
              regionName: "us-west-2",
              pointInTimeRecovery: false,
              deletionProtectionEnabled: true,
            },
          ],
        }),
      ],
      message: /replica in us-west-2 has point-in-time recovery off/,
    },
    {
      what: "a TableReplica resource without PITR",
      resources: () => [res(T.replica, { deletionProtectionEnabled: true })],
      message: /table replica .*point-in-time recovery is not on/,
    },
  ],
  "dynamodb-deletion-protection": [
    {
      what: "a table without deletion protection",
      resources: () => [res(T.table, { ...goodTable().props, deletionProtectionEnabled: false })],
      message: /deletion protection is not on/,
    },
    {
      what: "a replica without deletion protection",
      resources: () => [
        res(T.table, {
          ...goodTable().props,
          replicas: [{ regionName: "eu-west-1", pointInTimeRecovery: true }],
        }),
      ],
      message: /replica in eu-west-1 has deletion protection off/,
    },
  ],
  "dynamodb-kms-encryption": [
    {
      what: "a table on the AWS-owned key",
      resources: () => [res(T.table, { ...goodTable().props, serverSideEncryption: undefined })],
      message: /serverSideEncryption.enabled is not true/,
    },
  ],
  "s3-encryption": [
    {
      what: "a bucket whose encryption configuration is another bucket's",
      resources: () => bucketStack({ sse: { bucket: "someone-else" } }),
      message: /no default encryption configuration/,
    },
  ],
  "s3-public-access-block": [
    {
      what: "a bucket with restrictPublicBuckets off",
      resources: () => bucketStack({ pab: { restrictPublicBuckets: false } }),
      message: /no public access block with all four settings on/,
    },
  ],
  "s3-tls-only": [
    {
      what: "a bucket policy that only allows",
      resources: () =>
        bucketStack({
          policy: {
            policy: JSON.stringify({
              Statement: [
                {
                  Effect: "Allow",
                  Principal: { AWS: "arn:aws:iam::1:root" },
                  Action: "s3:GetObject",
                  Resource: "*",
                },
              ],
            }),
          },
        }),
      message: /no bucket policy denying aws:SecureTransport false/,
    },
  ],
  "log-group-retention": [
    {
      what: "a log group kept forever",
      resources: () => [res(T.logGroup, { name: "/x", region: "us-east-1" })],
      message: /no retentionInDays/,
    },
  ],
  "log-group-kms": [
    {
      what: "an unencrypted log group in a region whose tables use a customer key",
      resources: () => [
        res(T.table, {
          ...goodTable().props,
          serverSideEncryption: { enabled: true, kmsKeyArn: KEYS["us-east-1"] },
        }),
        res(T.logGroup, { name: "/in-east", region: "us-east-1", retentionInDays: 30 }),
        // Another region without a customer key: not reported.
        res(T.logGroup, { name: "/in-west", region: "us-west-2", retentionInDays: 30 }),
      ],
      message: /log group .*no kmsKeyId, but this stack uses a customer-managed key in us-east-1/,
    },
  ],
  "implicit-log-groups": [
    {
      what: "a function with no log group of its own",
      resources: () => [res(T.lambda, { name: "fn-1" })],
      message: /function .*no log group of its own/,
    },
    {
      what: "a canary without its Lambda log group",
      resources: () => [
        res(T.canary, { name: "shop-region1" }),
        res(T.logGroup, { name: "/aws/lambda/cwsyn-other-1234", retentionInDays: 30 }),
      ],
      message: /canary .*no log group \/aws\/lambda\/cwsyn-shop-region1-<id>/,
    },
    {
      what: "stage execution logging without its log group",
      resources: () => [
        res(T.methodSettings, {
          restApi: "abc123",
          stageName: "prod",
          settings: { loggingLevel: "ERROR" },
        }),
      ],
      message: /no log group API-Gateway-Execution-Logs_abc123\/prod/,
    },
  ],
  "sns-encryption": [
    {
      what: "an unencrypted topic",
      resources: () => [res(T.topic, { name: "alerts" })],
      message: /no kmsMasterKeyId/,
    },
  ],
  "sqs-encryption": [
    {
      what: "an unencrypted queue",
      resources: () => [res("aws:sqs/queue:Queue", { name: "q" }, { name: "q" })],
      message: /queue q: neither sqsManagedSseEnabled nor kmsMasterKeyId/,
    },
  ],
  "stream-mapping-failure-handling": [
    {
      what: "a stream mapping that retries until records expire (-1, the default)",
      resources: () => [streamMapping({ maximumRetryAttempts: -1 })],
      message: /mapping m: maximumRetryAttempts -1, expected 0 to 10/,
    },
    {
      what: "a stream mapping that does not bisect a failing batch",
      resources: () => [streamMapping({ bisectBatchOnFunctionError: false })],
      message: /mapping m: bisectBatchOnFunctionError is not true/,
    },
    {
      what: "a stream mapping with no on-failure destination",
      resources: () => [streamMapping({ destinationConfig: undefined })],
      message: /mapping m: no on-failure destination/,
    },
  ],
  "iam-least-privilege": [
    {
      what: "a wildcard action",
      resources: () => [
        policyOf({ Effect: "Allow", Action: ["s3:*"], Resource: ["arn:aws:s3:::b/*"] }),
      ],
      message: /wildcard action s3:\*/,
    },
    {
      what: "a * resource for an action with resource-level permissions",
      resources: () => [policyOf({ Effect: "Allow", Action: "dynamodb:GetItem", Resource: "*" })],
      message: /Resource "\*" for dynamodb:GetItem/,
    },
    {
      what: "PutMetricData on * without a namespace condition",
      resources: () => [
        policyOf({ Effect: "Allow", Action: "cloudwatch:PutMetricData", Resource: "*" }),
      ],
      message: /without a cloudwatch:namespace condition/,
    },
    {
      what: "NotAction",
      resources: () => [
        policyOf({ Effect: "Allow", NotAction: "iam:*", Resource: "arn:aws:s3:::b" }),
      ],
      message: /uses NotAction/,
    },
    {
      what: "an unreviewed AWS-managed policy",
      resources: () => [
        res(T.role, { managedPolicyArns: ["arn:aws:iam::aws:policy/AdministratorAccess"] }),
      ],
      message: /AdministratorAccess is not on the reviewed list/,
    },
  ],
  "iam-service-trust-source-account": [
    {
      what: "a Lambda trust without aws:SourceAccount",
      resources: () => [
        res(T.role, {
          assumeRolePolicy: JSON.stringify({
            Statement: [
              {
                Effect: "Allow",
                Principal: { Service: "lambda.amazonaws.com" },
                Action: "sts:AssumeRole",
              },
            ],
          }),
        }),
      ],
      message: /"lambda.amazonaws.com" has no aws:SourceAccount condition/,
    },
    {
      what: "a trust in anyone",
      resources: () => [
        res(T.role, {
          assumeRolePolicy: {
            Statement: [{ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" }],
          },
        }),
      ],
      message: /trust policy allows any principal/,
    },
  ],
  "apigateway-methods-authenticated": [
    {
      what: "an unauthenticated GET /orders",
      resources: () => apiStack("GET", "/orders", "NONE"),
      message: /method GET \/orders .*authorization NONE, expected AWS_IAM/,
    },
    {
      what: "an unauthenticated POST /health (only GET is the health check)",
      resources: () => apiStack("POST", "/health", "NONE"),
      message: /method POST \/health/,
    },
  ],
  "apigateway-domain-tls12": [
    {
      what: "a domain that accepts TLS 1.0",
      resources: () => [
        res(T.domainName, { domainName: "orders.example.com", securityPolicy: "TLS_1_0" }),
      ],
      message: /securityPolicy TLS_1_0, expected TLS_1_2 or newer/,
    },
  ],
  "fis-experiment-guarded": [
    {
      what: "a template with stop condition none",
      resources: () => [fisTemplate({ stopConditions: [{ source: "none" }] })],
      message: /needs CloudWatch alarm stop conditions only/,
    },
    {
      what: "a template whose action has no duration",
      resources: () => [fisTemplate({ duration: undefined })],
      message: /action pause has no duration of at most 60 minutes \(got undefined\)/,
    },
    {
      what: "a template whose action runs two hours",
      resources: () => [fisTemplate({ duration: "PT2H" })],
      message: /action pause has no duration of at most 60 minutes \(got "PT2H"\)/,
    },
    {
      what: "a template without experiment logging",
      resources: () => [fisTemplate({ logConfiguration: undefined })],
      message: /no logConfiguration/,
    },
  ],
};

/** An FIS template that complies, with one field replaced. */
function fisTemplate(
  o: { stopConditions?: unknown; duration?: string; logConfiguration?: unknown } = {},
): ResourceView {
  const duration = "duration" in o ? o.duration : "PT10M";
  return res(T.fisTemplate, {
    region: "us-east-1",
    stopConditions:
      "stopConditions" in o
        ? o.stopConditions
        : [
            {
              source: "aws:cloudwatch:alarm",
              value: "arn:aws:cloudwatch:us-east-1:000000000000:alarm:a",
            },
          ],
    actions: [
      {
        name: "pause",
        actionId: "aws:dynamodb:global-table-pause-replication",
        parameters: duration === undefined ? [] : [{ key: "duration", value: duration }],
      },
    ],
    logConfiguration:
      "logConfiguration" in o
        ? o.logConfiguration
        : {
            logSchemaVersion: 2,
            cloudwatchLogsConfiguration: {
              logGroupArn: "arn:aws:logs:us-east-1:000000000000:log-group:g:*",
            },
          },
  });
}

describe("policy pack: each rule reports a resource that breaks it", () => {
  it("has at least one breaking case for every rule of the pack", () => {
    expect(Object.keys(CASES).sort()).to.deep.equal(RULES.map((r) => r.name).sort());
  });

  for (const rule of RULES) {
    for (const c of CASES[rule.name] ?? []) {
      it(`${rule.name}: ${c.what}`, () => {
        const resources = c.resources();
        const found = runRule(rule, resources);
        expect(found, JSON.stringify(found)).to.have.length(1);
        expect(found[0]?.message).to.match(c.message);
        expect(resources.map((r) => r.urn)).to.include(found[0]?.urn);
      });
    }
  }

  it("passes the compliant counterparts of those cases", () => {
    const byName = Object.fromEntries(RULES.map((r) => [r.name, r]));
    const ok = (name: string, resources: ResourceView[]) =>
      expect(runRule(byName[name]!, resources), name).to.deep.equal([]);
    ok("dynamodb-pitr", [goodTable()]);
    ok("dynamodb-deletion-protection", [goodTable()]);
    ok("dynamodb-kms-encryption", [goodTable()]);
    ok("stream-mapping-failure-handling", [streamMapping()]);
    ok("sqs-encryption", [res("aws:sqs/queue:Queue", { sqsManagedSseEnabled: true })]);
    ok("sqs-encryption", [res("aws:sqs/queue:Queue", { kmsMasterKeyId: "alias/aws/sqs" })]);
    for (const name of ["s3-encryption", "s3-public-access-block", "s3-tls-only"])
      ok(name, bucketStack());
    ok("fis-experiment-guarded", [fisTemplate(), fisTemplate({ duration: "PT60M" })]);
    ok("apigateway-methods-authenticated", apiStack("GET", "/health", "NONE"));
    ok("apigateway-methods-authenticated", apiStack("OPTIONS", "/orders", "NONE"));
    ok("apigateway-methods-authenticated", apiStack("POST", "/orders", "AWS_IAM"));
    ok("iam-least-privilege", [
      policyOf({
        Effect: "Allow",
        Action: "cloudwatch:PutMetricData",
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": "CloudWatchSynthetics" } },
      }),
      policyOf({ Effect: "Deny", Action: "s3:*", Resource: "*" }),
    ]);
  });

  it("follows links through property dependencies when values are unknown (preview)", () => {
    const api = res(T.restApi, {});
    const orders = res(T.apiResource, { pathPart: "orders" }, { deps: { parentId: [api.urn] } });
    const method = res(
      T.method,
      { httpMethod: "GET", authorization: "NONE" },
      { deps: { resourceId: [orders.urn] } },
    );
    const rule = RULES.find((r) => r.name === "apigateway-methods-authenticated")!;
    const found = runRule(rule, [api, orders, method]);
    expect(found.map((v) => v.message)).to.deep.equal([
      `method GET /orders (${method.name}): authorization NONE, expected AWS_IAM`,
    ]);
    const bucket = res(T.bucket, {}, { id: undefined });
    const block = res(
      T.publicAccessBlock,
      {
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { deps: { bucket: [bucket.urn] } },
    );
    expect(
      runRule(
        RULES.find((r) => r.name === "s3-public-access-block")!,
        [bucket, block],
      ),
    ).to.deep.equal([]);
  });
});
