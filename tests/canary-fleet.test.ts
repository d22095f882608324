import { expect } from "chai";
import fc from "fast-check";
import {
  ARTIFACT_PREFIX,
  CANARY_HANDLER,
  CANARY_NAME_PATTERN,
  CANARY_SCRIPT_PATH,
  CanaryFleet,
  DEFAULT_CANARY_RUNTIME,
  canaryCodeFiles,
  canaryInvokeArns,
  canaryName,
  canaryPolicy,
  scheduleSeconds,
  validateCanaryFleetArgs,
  type CanaryFleetArgs,
  type CanaryScriptArgs,
} from "../components";
import * as fs from "node:fs";
import { builtinModules, createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { ROUTES } from "../functions/routes";
import {
  CANARY_REQUESTS,
  assertCanaryRequestsAreIamRoutes,
  serviceCanaryScript,
} from "../stack/service-canary";
import {
  json,
  parentTypes,
  refusedUnderMocks,
  registeredUrns,
  underMocks,
  type MockEngine,
} from "./support/pulumi";

const ACCOUNT = "000000000000";
const BUILTINS = new Set(builtinModules);
const nodeRequire = createRequire(__filename);
const east = `arn:aws:execute-api:us-east-1:${ACCOUNT}:abc123`;
const west = `arn:aws:execute-api:us-west-2:${ACCOUNT}:def456`;
const TOPIC = `arn:aws:sns:us-east-2:${ACCOUNT}:oncall`;

const baseArgs: CanaryFleetArgs = {
  region: "us-east-2",
  namePrefix: "shop",
  targets: [
    {
      label: "obs-region1",
      endpoint: "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
      signingRegion: "us-east-1",
    },
    {
      label: "obs-region2",
      endpoint: "https://def456.execute-api.us-west-2.amazonaws.com/prod",
      signingRegion: "us-west-2",
    },
    { label: "obs-global", endpoint: "https://orders.example.com/v1", signingRegion: "*" },
  ],
  apis: [
    { executionArn: east, stageName: "prod" },
    { executionArn: west, stageName: "prod" },
  ],
  script: serviceCanaryScript({
    orderId: "01JD3V8Q7M2X4K9T6R5B0C1N8F",
    productId: "01JD3V8Q7M2X4K9T6R5B0C1N8G",
  }),
  alarmTopicArn: TOPIC,
};
const withIds = (orderId: string, productId: string) => ({
  script: serviceCanaryScript({ orderId, productId }),
});

describe("canary names", () => {
  const labels = [
    "region1",
    "region2",
    "obs-region1",
    "obs-region2",
    "obs-global",
    "a-very-long-stack-name-for-europe-1",
    "a-very-long-stack-name-for-europe-2",
    "Region_3 (EU)",
  ];
  const prefixes = ["rd", "resilient-dynamo", "shop", "a-prefix-longer-than-twenty-one"];

  it("are at most 21 characters of [0-9a-z_-]", () => {
    for (const p of prefixes)
      for (const l of labels) expect(canaryName(p, l), `${p} ${l}`).to.match(CANARY_NAME_PATTERN);
  });

  it("are unique across prefixes and labels", () => {
    const names = prefixes.flatMap((p) => labels.map((l) => canaryName(p, l)));
    expect(new Set(names).size).to.equal(names.length);
  });

  it("are deterministic", () => {
    for (const l of labels)
      expect(canaryName("resilient-dynamo", l)).to.equal(canaryName("resilient-dynamo", l));
  });

  it("keep `<prefix>-<label>` when it fits, and the label's start when it does not", () => {
    expect(canaryName("shop", "obs-region1")).to.equal("shop-obs-region1");
    expect(canaryName("resilient-dynamo", "obs-region1")).to.match(/^obs-region1-[0-9a-f]{6}$/);
  });

  it("are valid and stable for any prefix and label with a usable character", () => {
    const text = fc.string({ maxLength: 40 }).filter((s) => /[0-9A-Za-z_]/.test(s));
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), text, (prefix, label) => {
        const name = canaryName(prefix, label);
        expect(name).to.match(CANARY_NAME_PATTERN);
        expect(canaryName(prefix, label)).to.equal(name);
      }),
    );
  });

  it("reject a label with nothing usable", () => {
    expect(() => canaryName("", "***")).to.throw(/nothing usable/);
  });
});

describe("canary schedule", () => {
  const good: [string, number][] = [
    ["rate(1 minute)", 60],
    ["rate(5 minutes)", 300],
    ["rate(60 minutes)", 3600],
    ["rate(1 hour)", 3600],
  ];
  for (const [expr, seconds] of good) {
    it(`${expr} runs every ${seconds} s`, () => expect(scheduleSeconds(expr)).to.equal(seconds));
  }
  const bad: [string, RegExp][] = [
    ["cron(0/5 * * * ? *)", /cron is not supported/],
    ["rate(0 minute)", /every 1 to 60 minutes/],
    ["rate(61 minutes)", /every 1 to 60 minutes/],
    ["rate(2 hours)", /every 1 to 60 minutes/],
    ["rate(1 minutes)", /singular only for 1/],
    ["every minute", /rate expression/],
  ];
  for (const [expr, message] of bad) {
    it(`rejects ${expr}`, () => expect(() => scheduleSeconds(expr)).to.throw(message));
  }
});

describe("canary arguments", () => {
  const cases: [string, Partial<CanaryFleetArgs>, RegExp][] = [
    ["no target", { targets: [] }, /at least one target/],
    ["no API", { apis: [] }, /at least one API/],
    [
      "duplicate label",
      {
        targets: [
          { label: "x", endpoint: "https://a", signingRegion: "us-east-1" },
          { label: "x", endpoint: "https://b", signingRegion: "us-east-1" },
        ],
      },
      /duplicate canary target label x/,
    ],
    [
      "order id with a slash",
      withIds("a/b", "p"),
      /script\.settings\[0\] CANARY_ORDER_ID must be an id created by POST \/fill/,
    ],
    ["empty product id", withIds("o", ""), /script\.settings\[1\] CANARY_PRODUCT_ID must be an id/],
    ["bad region", { region: "mars-1" }, /region must be an AWS region/],
    ["cron schedule", { schedule: "cron(* * * * ? *)" }, /rate expression/],
    [
      "timeout beyond the interval",
      { timeoutSeconds: 61 },
      /timeoutSeconds must be an integer from 15 to 60/,
    ],
    ["timeout below 15 s", { timeoutSeconds: 10 }, /timeoutSeconds/],
    [
      "threshold 0",
      { successPercentThreshold: 0 },
      /successPercentThreshold must be in \(0, 100\]/,
    ],
    ["threshold above 100", { successPercentThreshold: 101 }, /successPercentThreshold/],
    ["zero alarm periods", { alarmPeriods: 0 }, /alarmPeriods/],
    [
      "Playwright runtime",
      { runtimeVersion: "syn-nodejs-playwright-2.0" },
      /Puppeteer Synthetics runtime/,
    ],
    ["retention beyond 455 days", { artifactRetentionDays: 456 }, /artifactRetentionDays/],
    [
      "request timeout below what the script accepts",
      { requestTimeoutMs: 50 },
      /requestTimeoutMs must be an integer from 100 to 60000: got 50/,
    ],
  ];
  for (const [what, patch, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => validateCanaryFleetArgs({ ...baseArgs, ...patch })).to.throw(message);
    });
  }

  it("calls only IAM routes the API has", () => {
    for (const r of CANARY_REQUESTS) {
      expect(ROUTES.some((x) => x.method === r.method && x.path === r.path && x.auth === "iam")).to
        .be.true;
    }
    expect(() => assertCanaryRequestsAreIamRoutes(CANARY_REQUESTS)).not.to.throw();
    expect(() => assertCanaryRequestsAreIamRoutes([{ method: "GET", path: "/health" }])).to.throw(
      /canary request GET \/health is not an IAM route of the API/,
    );
    expect(() =>
      assertCanaryRequestsAreIamRoutes([{ method: "DELETE", path: "/kv/{key}" }]),
    ).to.throw(/canary request DELETE \/kv\/\{key\} is not an IAM route/);
  });
});

describe("canary code", () => {
  it("is one CommonJS bundle at the path Puppeteer runtimes load, exporting handler", () => {
    const files = canaryCodeFiles(baseArgs.script);
    expect(Object.keys(files).sort()).to.deep.equal([
      CANARY_SCRIPT_PATH,
      `${CANARY_SCRIPT_PATH}.map`,
    ]);
    expect(CANARY_HANDLER).to.equal("canary.handler");
    const module = { exports: {} as Record<string, unknown> };
    // Load the bundle as Lambda would: CommonJS, only Node's own modules to require.
    const load = new Function("module", "exports", "require", files[CANARY_SCRIPT_PATH] as string);
    load(module, module.exports, (id: string) => {
      if (!id.startsWith("node:") && !BUILTINS.has(id)) throw new Error(`bundle requires ${id}`);
      return nodeRequire(id);
    });
    expect(module.exports["handler"]).to.be.a("function");
  });
});

describe("canary policy", () => {
  const doc = canaryPolicy({
    invokeArns: [
      ...canaryInvokeArns(east, "prod", CANARY_REQUESTS),
      ...canaryInvokeArns(west, "prod", CANARY_REQUESTS),
    ],
    bucketArn: "arn:aws:s3:::artifacts",
    artifactPrefix: "runs",
    canaryNames: ["shop-obs-region1", "shop-obs-global"],
    region: "us-east-2",
    accountId: ACCOUNT,
  });
  const bySid = (sid: string) => doc.Statement.find((s) => s.Sid === sid);

  it("names no * action", () => {
    for (const s of doc.Statement) for (const a of s.Action) expect(a).not.to.include("*");
  });

  it("invokes exactly the canary's routes on each API stage", () => {
    expect(bySid("InvokeCheckedApis")?.Resource).to.deep.equal([
      `${east}/prod/GET/orders/*`,
      `${east}/prod/GET/products/*`,
      `${west}/prod/GET/orders/*`,
      `${west}/prod/GET/products/*`,
    ]);
  });

  it("writes artifacts only under the prefix and reads only the bucket's location", () => {
    expect(bySid("WriteArtifacts")).to.deep.include({
      Action: ["s3:PutObject"],
      Resource: ["arn:aws:s3:::artifacts/runs/*"],
    });
    expect(bySid("LocateArtifactsBucket")).to.deep.include({
      Action: ["s3:GetBucketLocation"],
      Resource: ["arn:aws:s3:::artifacts"],
    });
  });

  it("writes only the canaries' own Lambda log groups", () => {
    expect(bySid("WriteCanaryLogs")?.Resource).to.deep.equal([
      `arn:aws:logs:us-east-2:${ACCOUNT}:log-group:/aws/lambda/cwsyn-shop-obs-global-*`,
      `arn:aws:logs:us-east-2:${ACCOUNT}:log-group:/aws/lambda/cwsyn-shop-obs-region1-*`,
    ]);
  });

  it("publishes metrics only in the CloudWatchSynthetics namespace", () => {
    expect(bySid("PublishSyntheticsMetrics")).to.deep.include({
      Action: ["cloudwatch:PutMetricData"],
      Condition: { StringEquals: { "cloudwatch:namespace": "CloudWatchSynthetics" } },
    });
  });

  it("gives a * resource only to actions without resource-level permissions", () => {
    for (const s of doc.Statement) {
      if (s.Resource.includes("*"))
        expect(s.Action.join()).to.be.oneOf(["s3:ListAllMyBuckets", "cloudwatch:PutMetricData"]);
    }
  });

  it("refuses a wildcard or method-less invoke ARN", () => {
    const input = {
      bucketArn: "arn:aws:s3:::b",
      artifactPrefix: "runs",
      canaryNames: ["x"],
      region: "us-east-1",
      accountId: ACCOUNT,
    };
    expect(() => canaryPolicy({ ...input, invokeArns: [`${east}/*`] })).to.throw(
      /not an execute-api ARN/,
    );
    expect(() => canaryPolicy({ ...input, invokeArns: [`${east}/prod/*/orders/*`] })).to.throw(
      /not an execute-api ARN/,
    );
    expect(() => canaryPolicy({ ...input, invokeArns: [] })).to.throw(/no execute-api ARN/);
  });
});

describe("CanaryFleet", function () {
  this.timeout(120_000);
  let engine: MockEngine;
  let fleet: CanaryFleet;
  let urns: string[];

  before(async () => {
    ({ engine, result: fleet } = await underMocks("us-east-1", () => {
      return new CanaryFleet("observer", baseArgs);
    }));
    urns = await registeredUrns();
  });

  const canaries = () => engine.ofType("aws:synthetics/canary:Canary");

  it("creates one canary per target, in the fleet's region, on the chosen runtime", () => {
    const names = baseArgs.targets.map((t) => canaryName("shop", t.label));
    expect(canaries().map((c) => c.inputs["name"])).to.deep.equal(names);
    expect(fleet.canaryNames).to.deep.equal(
      Object.fromEntries(baseArgs.targets.map((t) => [t.label, canaryName("shop", t.label)])),
    );
    for (const c of canaries()) {
      expect(c.inputs["region"]).to.equal("us-east-2");
      expect(c.inputs["runtimeVersion"]).to.equal(DEFAULT_CANARY_RUNTIME);
      expect(c.inputs["handler"]).to.equal(CANARY_HANDLER);
      expect(c.inputs["schedule"]).to.deep.equal({ expression: "rate(1 minute)" });
      expect(c.inputs["startCanary"]).to.equal(true);
      expect(parentTypes(urns, "aws:synthetics/canary:Canary", c.name)).to.deep.equal([
        "resilient-dynamo:index:CanaryFleet",
      ]);
    }
  });

  it("tells each canary the endpoint it checks, how to sign, and the ids to read", () => {
    const env = canaries().map((c) => c.inputs["runConfig"].environmentVariables);
    expect(env).to.deep.equal(
      baseArgs.targets.map((t) => ({
        CANARY_ENDPOINT: t.endpoint,
        CANARY_SIGNING_REGION: t.signingRegion,
        CANARY_ORDER_ID: "01JD3V8Q7M2X4K9T6R5B0C1N8F",
        CANARY_PRODUCT_ID: "01JD3V8Q7M2X4K9T6R5B0C1N8G",
        CANARY_TIMEOUT_MS: "10000",
      })),
    );
  });

  it("runs the bundled script from the artifacts bucket, in the layout Puppeteer runtimes load", () => {
    const [code] = engine.ofType("aws:s3/bucketObjectv2:BucketObjectv2");
    const [bucket] = engine.ofType("aws:s3/bucket:Bucket");
    expect(code?.inputs["bucket"]).to.equal(bucket?.state["bucket"]);
    expect(code?.inputs["key"]).to.match(/^code\/canary-[0-9a-f]{16}\.zip$/);
    for (const c of canaries()) {
      expect(c.inputs["s3Bucket"]).to.equal(bucket?.state["bucket"]);
      expect(c.inputs["s3Key"]).to.equal(code?.inputs["key"]);
    }
  });

  it("keeps artifacts in one private, encrypted, versioned bucket that expires them", () => {
    const [bucket] = engine.ofType("aws:s3/bucket:Bucket");
    expect(engine.ofType("aws:s3/bucket:Bucket")).to.have.length(1);
    expect(bucket?.inputs["region"]).to.equal("us-east-2");
    const id = bucket?.id;
    const one = (type: string) => {
      const found = engine.ofType(type).filter((r) => r.inputs["bucket"] === id);
      expect(found, type).to.have.length(1);
      return found[0]?.inputs ?? {};
    };
    expect(one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")).to.deep.include({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(
      one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        .rules,
    ).to.deep.equal([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
    expect(one("aws:s3/bucketVersioning:BucketVersioning").versioningConfiguration).to.deep.equal({
      status: "Enabled",
    });
    expect(one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").rule).to.deep.equal({
      objectOwnership: "BucketOwnerEnforced",
    });
    const rules = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").rules;
    const runs = rules.find((r: any) => r.filter?.prefix === `${ARTIFACT_PREFIX}/`);
    expect(runs).to.deep.include({ status: "Enabled", expiration: { days: 30 } });
    for (const c of canaries()) {
      expect(c.inputs["artifactS3Location"]).to.equal(`s3://${id}/${ARTIFACT_PREFIX}/`);
      expect(c.inputs["artifactConfig"]).to.deep.equal({
        s3Encryption: { encryptionMode: "SSE_S3" },
      });
    }
  });

  it("runs every canary under one role whose policy names the fleet's canaries and APIs", () => {
    const [role] = engine.ofType("aws:iam/role:Role");
    for (const c of canaries()) expect(c.inputs["executionRoleArn"]).to.equal(role?.state["arn"]);
    const trust = json(role?.inputs["assumeRolePolicy"]);
    expect(trust.Statement[0].Principal).to.deep.equal({ Service: "lambda.amazonaws.com" });
    expect(trust.Statement[0].Condition).to.deep.equal({
      StringEquals: { "aws:SourceAccount": ACCOUNT },
    });
    const [policy] = engine.ofType("aws:iam/rolePolicy:RolePolicy");
    expect(policy?.inputs["role"]).to.equal(role?.state["name"]);
    const doc = json(policy?.inputs["policy"]);
    const invoke = doc.Statement.find((s: any) => s.Sid === "InvokeCheckedApis");
    expect(invoke.Resource).to.have.length(4);
    const logs = doc.Statement.find((s: any) => s.Sid === "WriteCanaryLogs");
    expect(logs.Resource).to.have.length(3);
    for (const s of doc.Statement) for (const a of s.Action) expect(a).not.to.include("*");
  });

  it("alarms per canary on SuccessPercent, and when the canary stops reporting", () => {
    const alarms = engine.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms.map((a) => a.inputs["dimensions"].CanaryName)).to.deep.equal(
      canaries().map((c) => c.inputs["name"]),
    );
    for (const a of alarms) {
      expect(a.inputs).to.deep.include({
        region: "us-east-2",
        namespace: "CloudWatchSynthetics",
        metricName: "SuccessPercent",
        statistic: "Average",
        period: 60,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        threshold: 90,
        comparisonOperator: "LessThanThreshold",
        treatMissingData: "breaching",
      });
      expect(a.inputs["alarmActions"]).to.deep.equal([TOPIC]);
      expect(a.inputs["okActions"]).to.deep.equal([TOPIC]);
    }
  });

  it("follows the schedule and thresholds it is given", async () => {
    const { engine: e } = await underMocks("us-east-1", () => {
      const { alarmTopicArn: _omit, ...rest } = baseArgs;
      void _omit;
      return new CanaryFleet("slow", {
        ...rest,
        schedule: "rate(5 minutes)",
        successPercentThreshold: 75,
        alarmPeriods: 2,
      });
    });
    for (const c of e.ofType("aws:synthetics/canary:Canary")) {
      expect(c.inputs["schedule"]).to.deep.equal({ expression: "rate(5 minutes)" });
      expect(c.inputs["runConfig"].timeoutInSeconds).to.equal(60);
    }
    for (const a of e.ofType("aws:cloudwatch/metricAlarm:MetricAlarm")) {
      expect(a.inputs).to.deep.include({ period: 300, threshold: 75, evaluationPeriods: 2 });
      expect(a.inputs["alarmActions"] ?? []).to.deep.equal([]);
    }
  });
});

describe("CanaryFleet for another service", function () {
  this.timeout(120_000);
  // A service that is not this one: its own script (outside this repository), its own route and
  // its own setting. Nothing of functions/ is involved.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "other-service-"));
  fs.writeFileSync(
    path.join(root, "probe.js"),
    'exports.handler = async () => { if (!process.env.CANARY_SKU) throw new Error("inventory-probe: no sku"); };\n',
  );
  const script: CanaryScriptArgs = {
    codeRoot: root,
    entry: "probe.js",
    requests: [{ method: "GET", path: "/inventory/{sku}" }],
    settings: [{ name: "CANARY_SKU", value: "sku-42", pattern: "[a-z0-9-]+", maxLength: 32 }],
  };
  const args: CanaryFleetArgs = {
    region: "eu-west-1",
    namePrefix: "inventory",
    targets: [
      {
        label: "eu",
        endpoint: "https://xyz789.execute-api.eu-west-1.amazonaws.com/live",
        signingRegion: "eu-west-1",
      },
    ],
    apis: [{ executionArn: `arn:aws:execute-api:eu-west-1:${ACCOUNT}:xyz789`, stageName: "live" }],
    script,
  };
  let engine: MockEngine;

  before(async () => {
    ({ engine } = await underMocks("eu-west-1", () => new CanaryFleet("inventory", args)));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("lets its role invoke exactly that service's request path", () => {
    const [policy] = engine.ofType("aws:iam/rolePolicy:RolePolicy");
    const invoke = json(policy?.inputs["policy"]).Statement.find(
      (s: any) => s.Sid === "InvokeCheckedApis",
    );
    expect(invoke.Resource).to.deep.equal([
      `arn:aws:execute-api:eu-west-1:${ACCOUNT}:xyz789/live/GET/inventory/*`,
    ]);
  });

  it("passes that service's settings, and none of this service's, to its canary", () => {
    const [canary] = engine.ofType("aws:synthetics/canary:Canary");
    expect(canary?.inputs["runConfig"].environmentVariables).to.deep.equal({
      CANARY_ENDPOINT: "https://xyz789.execute-api.eu-west-1.amazonaws.com/live",
      CANARY_SIGNING_REGION: "eu-west-1",
      CANARY_SKU: "sku-42",
      CANARY_TIMEOUT_MS: "10000",
    });
  });

  it("ships that service's script, not this one's", () => {
    const code = canaryCodeFiles(script)[CANARY_SCRIPT_PATH] as string;
    expect(code).to.contain("inventory-probe: no sku");
    expect(code).not.to.contain("x-served-by-region");
    const [object] = engine.ofType("aws:s3/bucketObjectv2:BucketObjectv2");
    const ours = canaryCodeFiles(baseArgs.script)[CANARY_SCRIPT_PATH] as string;
    expect(ours).to.contain("x-served-by-region");
    expect(object?.inputs["key"]).to.match(/^code\/canary-[0-9a-f]{16}\.zip$/);
  });
});

describe("CanaryFleet refuses a bad script, naming the argument", () => {
  const script = baseArgs.script;
  const setting = script.settings![0]!;
  const cases: [string, Partial<CanaryScriptArgs>, RegExp][] = [
    [
      "a relative code root",
      { codeRoot: "functions" },
      /script\.codeRoot must be an absolute directory: got "functions"/,
    ],
    ["an empty entry", { entry: " " }, /script\.entry must name the script's module/],
    ["no request", { requests: [] }, /script\.requests must list at least one signed request/],
    [
      "a method the API cannot have",
      { requests: [{ method: "TRACE" as "GET", path: "/orders/{orderId}" }] },
      /script\.requests\[0\]\.method must be one of GET, POST, PUT, PATCH, DELETE, HEAD: got "TRACE"/,
    ],
    [
      "a path without a leading slash",
      { requests: [...script.requests, { method: "GET", path: "orders" }] },
      /script\.requests\[2\]\.path must be an API resource path such as \/orders\/\{orderId\}: got "orders"/,
    ],
    [
      "a wildcard path",
      { requests: [{ method: "GET", path: "/orders/*" }] },
      /script\.requests\[0\]\.path must be an API resource path/,
    ],
    [
      "a setting the fleet sets itself",
      { settings: [{ ...setting, name: "CANARY_ENDPOINT" }] },
      /script\.settings\[0\]\.name CANARY_ENDPOINT is set by the fleet itself/,
    ],
    [
      "a setting name that is not an environment variable",
      { settings: [{ ...setting, name: "order id" }] },
      /script\.settings\[0\]\.name must be an environment variable name.*got "order id"/,
    ],
    [
      "a repeated setting",
      { settings: [setting, setting] },
      /script\.settings\[1\]\.name CANARY_ORDER_ID repeats an earlier setting/,
    ],
    [
      "a pattern that is not a regular expression",
      { settings: [{ ...setting, pattern: "(" }] },
      /script\.settings\[0\]\.pattern is not a regular expression/,
    ],
    [
      "a value longer than its limit",
      { settings: [{ ...setting, value: "x".repeat(129) }] },
      /script\.settings\[0\] CANARY_ORDER_ID must be .*, at most 128 characters: got "x{129}"/,
    ],
  ];
  for (const [what, patch, message] of cases) {
    it(`refuses ${what}`, async () => {
      const bad = { ...baseArgs, script: { ...script, ...patch } };
      expect(() => validateCanaryFleetArgs(bad)).to.throw(message);
      const { error, engine } = await refusedUnderMocks(
        "us-east-1",
        () => new CanaryFleet("x", bad),
      );
      expect(error.message).to.match(message);
      expect(engine.resources.filter((r) => !r.type.startsWith("resilient-dynamo:"))).to.be.empty;
    });
  }
});
