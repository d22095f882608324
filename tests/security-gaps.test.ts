/**
 * The gaps a security read found, each closed: retention (and the configured key) on the log
 * groups AWS would otherwise create itself, `kmsKeyArns` for tables, logs and buckets, TLS-only
 * bucket policies, and `aws:SourceAccount` on every service trust policy.
 */
import { expect } from "chai";
import {
  CanaryFleet,
  RegionalApi,
  canaryLogGroupName,
  executionLogGroupName,
  serviceTrustPolicy,
  tlsOnlyBucketPolicy,
  type CanaryFleetArgs,
  type RegionalApiArgs,
} from "../components";
import { ConfigError, kmsKeysByRegion, parseStackConfig } from "../stack/config";
import { TABLES, type TableKey } from "../functions/tables";
import { SERVICE_API } from "../stack/service-api";
import { serviceCanaryScript } from "../stack/service-canary";
import { MOCK_ACCOUNT_ID } from "../tools/mock-outputs";
import type { StackEvaluation } from "../tools/evaluate-stack";
import { json, underMocks, type MockEngine } from "./support/pulumi";
import { KMS_TEST_KEYS, REGION1_KEYS, REGION2_KEYS, sharedEvaluation } from "./support/stacks";

const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const KEY = (region: string, n = 1) =>
  `arn:aws:kms:${region}:000000000000:key/${n}234abcd-12ab-34cd-56ef-1234567890ab`;

const tableNames = Object.fromEntries(TABLES.map((t) => [t.key, `shop-${t.key}`])) as Record<
  TableKey,
  string
>;
const apiArgs: RegionalApiArgs = {
  ...SERVICE_API,
  region: "us-west-2",
  namePrefix: "shop",
  tableNames,
  tableArns: Object.fromEntries(
    TABLES.map((t) => [t.key, `arn:aws:dynamodb:us-west-2:000000000000:table/shop-${t.key}`]),
  ) as Record<TableKey, string>,
};
const fleetArgs: CanaryFleetArgs = {
  region: "us-east-2",
  namePrefix: "shop",
  targets: [
    {
      label: "obs-a",
      endpoint: "https://a.execute-api.us-east-1.amazonaws.com/prod",
      signingRegion: "us-east-1",
    },
    {
      label: "obs-b",
      endpoint: "https://b.execute-api.us-west-2.amazonaws.com/prod",
      signingRegion: "us-west-2",
    },
  ],
  apis: [{ executionArn: "arn:aws:execute-api:us-east-1:000000000000:a", stageName: "prod" }],
  script: serviceCanaryScript({ orderId: "canary-order", productId: "canary-product" }),
};

const trusts = (engine: MockEngine) =>
  engine.ofType("aws:iam/role:Role").map((r) => json(r.inputs["assumeRolePolicy"]));

describe("RegionalApi closes the log and trust gaps", function () {
  this.timeout(120_000);
  let plain: MockEngine;
  let keyed: MockEngine;
  let api: RegionalApi;

  before(async () => {
    ({ engine: plain, result: api } = await underMocks(
      "us-west-2",
      () => new RegionalApi("o", apiArgs),
    ));
    ({ engine: keyed } = await underMocks(
      "us-west-2",
      () => new RegionalApi("o", { ...apiArgs, kmsKeyArn: KEY("us-west-2"), logRetentionDays: 14 }),
    ));
  });

  it("creates the stage's execution log group, with retention, before API Gateway would", async () => {
    const apiId = plain.ofType("aws:apigateway/restApi:RestApi")[0]?.id as string;
    const groups = plain
      .ofType(LOG_GROUP)
      .filter((g) => g.inputs["name"].startsWith("API-Gateway"));
    expect(
      groups.map((g) => [g.inputs["name"], g.inputs["retentionInDays"], g.inputs["region"]]),
    ).to.deep.equal([[executionLogGroupName(apiId, "prod"), 30, "us-west-2"]]);
    expect(executionLogGroupName("abc123", "prod")).to.equal(
      "API-Gateway-Execution-Logs_abc123/prod",
    );
    expect(api).to.be.instanceOf(RegionalApi);
  });

  it("encrypts every log group with the configured key, and none without one", () => {
    const all = keyed.ofType(LOG_GROUP);
    expect(all).to.have.length(1 /* access */ + 1 /* execution */ + 6 /* functions */);
    for (const g of all) {
      expect(g.inputs["kmsKeyId"], g.name).to.equal(KEY("us-west-2"));
      expect(g.inputs["retentionInDays"], g.name).to.equal(14);
    }
    for (const g of plain.ofType(LOG_GROUP))
      expect(g.inputs["kmsKeyId"], g.name).to.equal(undefined);
  });

  it("trusts Lambda and API Gateway only on behalf of this account", () => {
    const docs = trusts(plain);
    expect(docs).to.have.length(7 /* six functions, the logging role */);
    for (const d of docs) {
      expect(d.Statement).to.have.length(1);
      expect(d.Statement[0].Condition).to.deep.equal({
        StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID },
      });
    }
    expect(docs.map((d) => d.Statement[0].Principal.Service).sort()).to.deep.equal([
      "apigateway.amazonaws.com",
      ...Array(6).fill("lambda.amazonaws.com"),
    ]);
  });
});

describe("CanaryFleet closes the log, key and TLS gaps", function () {
  this.timeout(120_000);
  let plain: MockEngine;
  let keyed: MockEngine;

  before(async () => {
    ({ engine: plain } = await underMocks("us-east-2", () => new CanaryFleet("obs", fleetArgs)));
    ({ engine: keyed } = await underMocks(
      "us-east-2",
      () =>
        new CanaryFleet("obs", { ...fleetArgs, kmsKeyArn: KEY("us-east-2"), logRetentionDays: 7 }),
    ));
  });

  it("creates each canary's Lambda log group, named from its engine ARN, with retention", () => {
    for (const [engine, days] of [
      [plain, 30],
      [keyed, 7],
    ] as const) {
      const canaries = engine.ofType("aws:synthetics/canary:Canary");
      const groups = engine.ofType(LOG_GROUP);
      expect(
        groups.map((g) => [g.inputs["name"], g.inputs["retentionInDays"], g.inputs["region"]]),
      ).to.deep.equal(
        canaries.map((c) => [canaryLogGroupName(c.state["engineArn"]), days, "us-east-2"]),
      );
      for (const g of groups)
        expect(g.inputs["name"]).to.match(/^\/aws\/lambda\/cwsyn-shop-obs-[ab]-/);
    }
  });

  it("leaves the canary role no way to create a log group without retention", () => {
    for (const engine of [plain, keyed]) {
      const actions = engine
        .ofType("aws:iam/rolePolicy:RolePolicy")
        .flatMap((p) => json(p.inputs["policy"]).Statement)
        .flatMap((s: any) => s.Action);
      expect(actions).to.include("logs:PutLogEvents").and.not.include("logs:CreateLogGroup");
    }
  });

  it("puts a TLS-only policy on the artifacts bucket", () => {
    for (const engine of [plain, keyed]) {
      const [bucket] = engine.ofType("aws:s3/bucket:Bucket");
      const policies = engine.ofType("aws:s3/bucketPolicy:BucketPolicy");
      expect(policies.map((p) => p.inputs["bucket"])).to.deep.equal([bucket?.id]);
      expect(json(policies[0]?.inputs["policy"])).to.deep.equal(
        tlsOnlyBucketPolicy(bucket?.state["arn"]),
      );
    }
  });

  it("uses the configured key for the bucket, the code, the run artifacts, the logs and the role", () => {
    const sse = keyed.ofType(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    );
    expect(sse.map((s) => s.inputs["rules"])).to.deep.equal([
      [
        {
          applyServerSideEncryptionByDefault: {
            sseAlgorithm: "aws:kms",
            kmsMasterKeyId: KEY("us-east-2"),
          },
          bucketKeyEnabled: true,
        },
      ],
    ]);
    const [code] = keyed.ofType("aws:s3/bucketObjectv2:BucketObjectv2");
    expect(code?.inputs).to.deep.include({
      serverSideEncryption: "aws:kms",
      kmsKeyId: KEY("us-east-2"),
    });
    for (const c of keyed.ofType("aws:synthetics/canary:Canary")) {
      expect(c.inputs["artifactConfig"]).to.deep.equal({
        s3Encryption: { encryptionMode: "SSE_KMS", kmsKeyArn: KEY("us-east-2") },
      });
    }
    for (const g of keyed.ofType(LOG_GROUP))
      expect(g.inputs["kmsKeyId"]).to.equal(KEY("us-east-2"));
    const statements = keyed
      .ofType("aws:iam/rolePolicy:RolePolicy")
      .flatMap((p) => json(p.inputs["policy"]).Statement);
    expect(statements.find((s: any) => s.Sid === "EncryptArtifacts")).to.deep.equal({
      Sid: "EncryptArtifacts",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: [KEY("us-east-2")],
    });
    const plainStatements = plain
      .ofType("aws:iam/rolePolicy:RolePolicy")
      .flatMap((p) => json(p.inputs["policy"]).Statement);
    expect(plainStatements.map((s: any) => s.Sid)).not.to.include("EncryptArtifacts");
    for (const g of plain.ofType(LOG_GROUP)) expect(g.inputs["kmsKeyId"]).to.equal(undefined);
  });
});

describe("security helpers", () => {
  it("canaryLogGroupName reads the function name from the engine ARN, version or not", () => {
    const fn = "cwsyn-my-test-90ea20c4-156f-4556-83b1-4f5728208018";
    for (const arn of [
      `arn:aws:lambda:us-east-1:123456789012:function:${fn}`,
      `arn:aws:lambda:us-east-1:123456789012:function:${fn}:2`,
    ]) {
      expect(canaryLogGroupName(arn)).to.equal(`/aws/lambda/${fn}`);
    }
    for (const bad of ["", "arn:aws:lambda:us-east-1:123456789012:function:other-fn", "cwsyn-x"]) {
      expect(() => canaryLogGroupName(bad), bad).to.throw(/not a Synthetics Lambda function ARN/);
    }
  });

  it("tlsOnlyBucketPolicy denies every non-TLS request on the bucket and its objects", () => {
    expect(tlsOnlyBucketPolicy("arn:aws:s3:::b-1")).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: ["arn:aws:s3:::b-1", "arn:aws:s3:::b-1/*"],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    });
    expect(() => tlsOnlyBucketPolicy("arn:aws:s3:::b-1/*")).to.throw(/not a bucket ARN/);
  });

  it("serviceTrustPolicy refuses an account id that is not 12 digits", () => {
    expect(() => serviceTrustPolicy("lambda.amazonaws.com", "12345")).to.throw(
      /12 digits: got "12345"/,
    );
  });
});

describe("kmsKeyArns config", () => {
  const primary = {
    "aws:region": "us-east-1",
    "resilient-dynamo:role": "primary",
    "resilient-dynamo:replicaRegions": '["us-west-2"]',
  };
  const keys = (...arns: string[]) => ({ "resilient-dynamo:kmsKeyArns": JSON.stringify(arns) });

  it("is unset by default (AWS-managed keys) and maps each key to the region in its ARN", () => {
    expect(kmsKeysByRegion(parseStackConfig(primary, "region1"))).to.equal(undefined);
    const cfg = parseStackConfig(
      { ...primary, ...keys(KEY("us-east-1"), KEY("us-west-2")) },
      "region1",
    );
    expect(kmsKeysByRegion(cfg)).to.deep.equal({
      "us-east-1": KEY("us-east-1"),
      "us-west-2": KEY("us-west-2"),
    });
  });

  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "no key for a replica region",
      keys(KEY("us-east-1")),
      /kmsKeyArns: has no key for us-west-2; this stack keeps data there/,
    ],
    [
      "two keys for one region",
      keys(KEY("us-east-1"), KEY("us-east-1", 2), KEY("us-west-2")),
      /kmsKeyArns: two keys for region us-east-1/,
    ],
    [
      "an alias instead of a key ARN",
      keys("alias/aws/dynamodb"),
      /kmsKeyArns\.0: got "alias\/aws\/dynamodb"; expected a KMS key ARN/,
    ],
    [
      "no key for the observer region",
      {
        ...keys(KEY("us-east-1"), KEY("us-west-2")),
        "resilient-dynamo:observerRegion": "us-east-2",
      },
      /kmsKeyArns: has no key for us-east-2/,
    ],
  ];
  for (const [what, patch, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => parseStackConfig({ ...primary, ...patch }, "region1"))
        .to.throw(ConfigError)
        .with.property("message")
        .that.matches(message);
    });
  }
});

describe("kmsKeyArns in the region stacks", function () {
  this.timeout(240_000);
  let region1: StackEvaluation;
  let region2: StackEvaluation;
  const key = (region: string | undefined) =>
    KMS_TEST_KEYS[region as keyof typeof KMS_TEST_KEYS] ?? `no test key for ${region}`;

  before(async () => {
    region1 = await sharedEvaluation("region1", REGION1_KEYS);
    region2 = await sharedEvaluation("region2", REGION2_KEYS, { region1: REGION1_KEYS });
  });

  it("encrypts every table with the home region's key and every replica with its region's", () => {
    const tables = region1.engine.ofType("aws:dynamodb/table:Table");
    expect(tables).to.have.length(TABLES.length);
    for (const t of tables) {
      expect(t.inputs["serverSideEncryption"]).to.deep.equal({
        enabled: true,
        kmsKeyArn: key("us-east-1"),
      });
      expect(t.inputs["replicas"].map((r: any) => [r.regionName, r.kmsKeyArn])).to.deep.equal([
        ["us-west-2", key("us-west-2")],
      ]);
    }
  });

  it("encrypts every log group and bucket with the key of its own region", () => {
    for (const run of [region1, region2]) {
      const groups = run.engine.ofType(LOG_GROUP);
      expect(groups.length).to.be.greaterThan(8);
      for (const g of groups) expect(g.inputs["kmsKeyId"], g.name).to.equal(key(g.region));
      const sse = run.engine.ofType(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      );
      expect(sse.map((s) => s.region).sort()).to.deep.equal(
        run === region1 ? ["us-east-1"] : ["us-east-2", "us-west-2"],
      );
      for (const s of sse) {
        expect(s.inputs["rules"][0].applyServerSideEncryptionByDefault.kmsMasterKeyId).to.equal(
          key(s.region),
        );
      }
    }
  });
});
