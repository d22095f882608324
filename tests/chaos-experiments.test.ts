/**
 * ChaosExperiments and the FIS Lambda extension wiring, on the shipped stacks under the mocks:
 * nothing by default; with fisLambdaExtension on both stacks and chaosExperiments on the routing
 * stack, one template per fault and region with its own exact role, stop conditions on that
 * region's alarms, a bounded duration and retained logs; bad config refused with clear messages.
 */
import { expect } from "chai";
import {
  CHAOS_FAULT_LIST,
  FIS_CONFIG_PREFIX,
  checkStopAlarms,
  faultAction,
  fisExtensionReadPolicy,
  fisRolePolicy,
  fisTrustPolicy,
  resolveFaultOptions,
  validateChaosExperimentsArgs,
  type ChaosExperimentsArgs,
} from "../components";
import { ConfigError, parseStackConfig } from "../stack/config";
import { evaluateStack, stackRefName, type StackEvaluation } from "../tools/evaluate-stack";
import type { RecordedResource } from "../tools/mock-engine";
import { MOCK_ACCOUNT_ID } from "../tools/mock-outputs";
import { fisActionMinutes, priceOf } from "../tools/cost-estimate";
import { formatPlan } from "../tools/plan-format";
import { planStack } from "../tools/planner";
import { PRICES } from "../tools/prices";
import { rejection } from "./support/errors";
import { configOf, sharedEvaluation } from "./support/stacks";

const TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const LAMBDA = "aws:lambda/function:Function";
const BUCKET = "aws:s3/bucket:Bucket";

const ON = { fisLambdaExtension: "true" };
const CHAOS = { fisLambdaExtension: "true", chaosExperiments: "true" };

/** The recorded resource named `name` of `type`; throws when there is not exactly one. */
function one(run: StackEvaluation, type: string, name: string): RecordedResource {
  const found = run.engine.ofType(type).filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`${found.length} ${type} named ${name}`);
  return found[0] as RecordedResource;
}

describe("ChaosExperiments (FIS) on the region stacks", function () {
  this.timeout(300_000);
  let region1: StackEvaluation;
  let region2: StackEvaluation;
  let plain1: StackEvaluation;
  let plain2: StackEvaluation;

  before(async () => {
    plain1 = await sharedEvaluation("region1");
    plain2 = await sharedEvaluation("region2", {}, { region1: {} });
    region1 = await sharedEvaluation("region1", ON);
    region2 = await sharedEvaluation("region2", CHAOS, { region1: ON });
  });

  describe("off by default", () => {
    it("creates no template, no FIS bucket, no layer and no FIS outputs", () => {
      for (const run of [plain1, plain2]) {
        expect(run.engine.ofType(TEMPLATE)).to.deep.equal([]);
        expect(run.engine.ofType(BUCKET).filter((b) => b.name.startsWith("fis-"))).to.deep.equal(
          [],
        );
        for (const fn of run.engine.ofType(LAMBDA)) {
          expect(fn.inputs["layers"], fn.name).to.equal(undefined);
          expect(fn.inputs["environment"]["variables"]).to.not.have.property(
            "AWS_FIS_CONFIGURATION_LOCATION",
          );
        }
        expect(run.outputs["fisExperimentTemplateIds"]).to.equal(undefined);
        expect(run.outputs["fisConfigBucketArn"]).to.equal(undefined);
      }
    });

    it("fisLambdaExtension alone prepares the functions but creates no template", () => {
      expect(region1.engine.ofType(TEMPLATE)).to.deep.equal([]);
      expect(region1.outputs["fisExperimentTemplateIds"]).to.equal(undefined);
      expect(region1.outputs["fisConfigBucketArn"]).to.match(/^arn:aws:s3:::/);
    });
  });

  describe("fisLambdaExtension: every API function can be faulted", () => {
    // The stream reconciler (eventual mode) serves no request: the API faults leave it alone.
    it("every API function has the arm64 FIS layer of its region, its environment and read access", () => {
      for (const [run, region] of [
        [region1, "us-east-1"],
        [region2, "us-west-2"],
      ] as const) {
        const bucketArn = run.outputs["fisConfigBucketArn"] as string;
        const fns = run.engine
          .ofType(LAMBDA)
          .filter((f) => f.region === region && !f.name.startsWith("reconciler-"));
        expect(fns.length).to.be.greaterThan(0);
        for (const fn of fns) {
          expect(fn.inputs["layers"], fn.name).to.deep.equal([
            `arn:aws:lambda:${region}:${MOCK_ACCOUNT_ID}:layer:aws-fis-extension-arm64:9`,
          ]);
          const env = fn.inputs["environment"]["variables"];
          expect(env["AWS_FIS_CONFIGURATION_LOCATION"]).to.equal(
            `${bucketArn}/${FIS_CONFIG_PREFIX}/`,
          );
          expect(env["AWS_LAMBDA_EXEC_WRAPPER"]).to.equal("/opt/aws-fis/bootstrap");
          const read = one(run, ROLE_POLICY, `${fn.name}-fis-config`);
          expect(JSON.parse(read.inputs["policy"])).to.deep.equal(
            fisExtensionReadPolicy(bucketArn),
          );
        }
      }
    });

    it("asks SSM for the arm64 extension parameter in its own region", () => {
      const asked = region1.engine.calls.filter(
        (c) => c.token === "aws:ssm/getParameter:getParameter",
      );
      expect(asked.map((c) => c.inputs)).to.deep.equal([
        {
          name: "/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x",
          region: "us-east-1",
        },
      ]);
    });
  });

  describe("chaosExperiments on the routing stack", () => {
    const regions = ["us-east-1", "us-west-2"];
    const templates = () => region2.engine.ofType(TEMPLATE);

    it("one template per fault and region, in that region, exported by fault then region", () => {
      const names = templates().map((t) => [t.name, t.region]);
      const expected = CHAOS_FAULT_LIST.flatMap((f) => regions.map((r) => [`chaos-${r}-${f}`, r]));
      expect(names).to.have.deep.members(expected);
      expect(names).to.have.length(8);
      const ids = region2.outputs["fisExperimentTemplateIds"] as Record<
        string,
        Record<string, string>
      >;
      expect(Object.keys(ids).sort()).to.deep.equal([...CHAOS_FAULT_LIST].sort());
      for (const f of CHAOS_FAULT_LIST) {
        for (const r of regions)
          expect(ids[f]![r]).to.equal(one(region2, TEMPLATE, `chaos-${r}-${f}`).id);
      }
    });

    it("each template runs its fault's one action on that region's tables or functions, for 10 minutes", () => {
      const fnArns: Record<string, string[]> = {
        "us-east-1": Object.values(region1.outputs["functionArns"] as Record<string, string>),
        "us-west-2": Object.values(region2.outputs["functionArns"] as Record<string, string>),
      };
      const tables = region1.outputs["tableArns"] as Record<string, Record<string, string>>;
      for (const r of regions) {
        for (const f of CHAOS_FAULT_LIST) {
          const t = one(region2, TEMPLATE, `chaos-${r}-${f}`).inputs;
          const a = faultAction(f);
          expect(t["actions"]).to.deep.equal([
            {
              name: f,
              actionId: a.actionId,
              description: a.description,
              parameters: Object.entries(a.parameters).map(([key, value]) => ({ key, value })),
              target: { key: a.targetKey, value: a.targetKey },
            },
          ]);
          expect(a.parameters["duration"]).to.equal("PT10M");
          expect(t["targets"]).to.deep.equal([
            {
              name: a.targetKey,
              resourceType: a.resourceType,
              resourceArns: (a.targetKey === "Tables"
                ? Object.values(tables[r]!)
                : fnArns[r]!
              ).sort(),
              selectionMode: "ALL",
            },
          ]);
          expect(t["experimentOptions"]).to.deep.equal({
            accountTargeting: "single-account",
            emptyTargetResolutionMode: "fail",
          });
        }
      }
    });

    it("every template stops on its own region's API 5XX alarm", () => {
      const alarms: Record<string, Record<string, string>> = {
        "us-east-1": region1.outputs["alarmArns"] as Record<string, string>,
        "us-west-2": region2.outputs["alarmArns"] as Record<string, string>,
      };
      for (const t of templates()) {
        expect(t.inputs["stopConditions"], t.name).to.deep.equal([
          { source: "aws:cloudwatch:alarm", value: alarms[t.region as string]!["api-5xx-rate"] },
        ]);
        expect(alarms[t.region as string]!["api-5xx-rate"]).to.contain(`:${t.region}:`);
      }
    });

    it("each template has its own role whose policy is exactly its fault's, on that region's resources", () => {
      const roleArns = new Set<string>();
      const tables = region1.outputs["tableArns"] as Record<string, Record<string, string>>;
      const buckets: Record<string, string> = {
        "us-east-1": region1.outputs["fisConfigBucketArn"] as string,
        "us-west-2": region2.outputs["fisConfigBucketArn"] as string,
      };
      const fns: Record<string, string[]> = {
        "us-east-1": Object.values(region1.outputs["functionArns"] as Record<string, string>),
        "us-west-2": Object.values(region2.outputs["functionArns"] as Record<string, string>),
      };
      for (const t of templates()) {
        const region = t.region as string;
        const fault = t.name.slice(`chaos-${region}-`.length) as (typeof CHAOS_FAULT_LIST)[number];
        const role = one(region2, ROLE, `${t.name}-role`);
        expect(t.inputs["roleArn"]).to.equal(role.state["arn"]);
        roleArns.add(role.state["arn"]);
        const logGroup = one(region2, LOG_GROUP, `chaos-${region}-logs`);
        const expected = fisRolePolicy(fault, {
          region,
          accountId: MOCK_ACCOUNT_ID,
          tableArns: Object.values(tables[region]!),
          functionArns: fns[region]!,
          configBucketArn: buckets[region],
          logGroupArn: logGroup.state["arn"],
        });
        const policy = one(region2, ROLE_POLICY, `${t.name}-policy`);
        expect(JSON.parse(policy.inputs["policy"]), t.name).to.deep.equal(expected);
        expect(JSON.parse(role.inputs["assumeRolePolicy"])).to.deep.equal(
          fisTrustPolicy(MOCK_ACCOUNT_ID, region),
        );
      }
      expect(roleArns.size).to.equal(8);
    });

    it("the replication pause role may edit only the region's replicas and their streams", () => {
      const tables = Object.values(
        (region1.outputs["tableArns"] as Record<string, Record<string, string>>)["us-east-1"]!,
      ).sort();
      const doc = JSON.parse(
        one(region2, ROLE_POLICY, "chaos-us-east-1-replication-pause-policy").inputs["policy"],
      );
      expect(doc.Statement[0]).to.deep.equal({
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
      for (const arn of tables) expect(arn).to.match(/^arn:aws:dynamodb:us-east-1:/);
      // Eventual tables: no error injection.
      expect(JSON.stringify(doc)).to.not.include("InjectError");
    });

    it("logs every experiment to a log group of its region with retention", () => {
      for (const r of regions) {
        const group = one(region2, LOG_GROUP, `chaos-${r}-logs`);
        expect(group.region).to.equal(r);
        expect(group.inputs["retentionInDays"]).to.equal(30);
        expect(group.inputs["name"]).to.equal(`/resilient-dynamo/${r}/fis/experiments`);
        for (const f of CHAOS_FAULT_LIST) {
          expect(
            one(region2, TEMPLATE, `chaos-${r}-${f}`).inputs["logConfiguration"],
          ).to.deep.equal({
            logSchemaVersion: 2,
            cloudwatchLogsConfiguration: { logGroupArn: `${group.state["arn"]}:*` },
          });
        }
      }
    });

    it("every resource of the component is its child", () => {
      const component = region2.engine.resources.find(
        (r) => r.type === "resilient-dynamo:index:ChaosExperiments",
      );
      expect(component?.name).to.equal("chaos");
      for (const t of [...templates(), ...region2.engine.ofType(LOG_GROUP)]) {
        if (!t.name.startsWith("chaos-")) continue;
        expect(t.parent, t.name).to.equal(component?.urn);
      }
    });
  });

  describe("refusals", () => {
    const parse = (stack: string, patch: Record<string, string>) => () =>
      parseStackConfig(configOf(stack, patch), stack);

    it("chaosExperiments on a stack that does not own routing", () => {
      expect(parse("region1", CHAOS)).to.throw(
        ConfigError,
        /resilient-dynamo:chaosExperiments: only valid on the stack that owns routing .*routing none/,
      );
    });

    it("chaosExperiments without fisLambdaExtension on the same stack", () => {
      expect(parse("region2", { chaosExperiments: "true" })).to.throw(
        ConfigError,
        /chaosExperiments: needs resilient-dynamo:fisLambdaExtension true on this stack/,
      );
    });

    it("a value that is not a boolean", () => {
      expect(parse("region2", { chaosExperiments: '"yes"' })).to.throw(
        ConfigError,
        /resilient-dynamo:chaosExperiments: got "yes"; expected true or false/,
      );
    });

    it("a peer whose functions were not prepared for FIS", async () => {
      const peer = await sharedEvaluation("region1");
      const err = await rejection(() =>
        evaluateStack("region2", {
          config: configOf("region2", CHAOS),
          stackOutputs: { [stackRefName("region1")]: peer.outputs },
        }),
      );
      expect(String(err)).to.match(
        /stack organization\/resilient-dynamo\/region1 exports no fisConfigBucketArn.*fisLambdaExtension true.*pulumi up -s region1/,
      );
    });
  });
});

describe("npm run plan with chaosExperiments on", function () {
  this.timeout(300_000);

  it("prices every template by its action-minutes and reads the peer's FIS bucket and alarms", async () => {
    const plan = await planStack("region2", {
      readConfig: (s) => configOf(s, s === "region2" ? CHAOS : ON),
    });
    const text = formatPlan(plan);
    const usage = text.slice(text.indexOf("Not estimated: usage-based"));
    expect(usage).to.match(
      /\n +8 {2}aws:fis\/experimentTemplate:ExperimentTemplate {2}each experiment run: 1 action, 10 action-minutes x \$0\.10 = \$1\.00 at most \(stopped early: less\)\n/,
    );
    expect(text).to.not.match(/Not priced[\s\S]*aws:fis/);
    const reads = plan.references.find((r) => r.stack === "region2")?.outputs ?? [];
    expect(reads).to.include.members(["alarmArns", "fisConfigBucketArn"]);
  });

  it("a template's run is the sum of its actions' durations; none in whole minutes is unpriced", () => {
    const action = (name: string, duration?: string) => ({
      name,
      parameters: duration ? [{ key: "duration", value: duration }] : [],
    });
    expect(fisActionMinutes({ actions: [action("a", "PT10M"), action("b", "PT1H5M")] })).to.equal(
      75,
    );
    expect(
      priceOf({
        type: "aws:fis/experimentTemplate:ExperimentTemplate",
        inputs: { actions: [action("a", "PT10M"), action("b", "PT20M")] },
      }),
    ).to.deep.equal({
      kind: "usage",
      drivers:
        "each experiment run: 2 actions, 30 action-minutes x $0.10 = $3.00 at most (stopped early: less)",
    });
    expect(
      priceOf({
        type: "aws:fis/experimentTemplate:ExperimentTemplate",
        inputs: { actions: [action("a")] },
      }),
    ).to.deep.equal({ kind: "unpriced", why: "action a has no duration in whole minutes" });
    expect(PRICES.fisActionMinute.usd).to.equal(0.1);
  });
});

describe("FIS plan (pure)", () => {
  it("durations: 1 to 60 minutes, default 10; delays: 0 to 900000 ms", () => {
    expect(resolveFaultOptions()).to.deep.equal({ durationMinutes: 10, lambdaDelayMs: 2000 });
    for (const [o, message] of [
      [{ durationMinutes: 0 }, /durationMinutes must be an integer from 1 to 60: got 0/],
      [{ durationMinutes: 61 }, /got 61/],
      [{ durationMinutes: 1.5 }, /got 1.5/],
      [{ lambdaDelayMs: -1 }, /lambdaDelayMs must be an integer from 0 to 900000: got -1/],
      [{ lambdaDelayMs: 900_001 }, /got 900001/],
    ] as const) {
      expect(() => resolveFaultOptions(o), JSON.stringify(o)).to.throw(message);
    }
  });

  it("stop alarms: 1 to 5 CloudWatch alarms of the template's own region", () => {
    const alarm = (r: string, n = "a") => `arn:aws:cloudwatch:${r}:000000000000:alarm:${n}`;
    expect(checkStopAlarms("us-east-1", [alarm("us-east-1")])).to.deep.equal([alarm("us-east-1")]);
    for (const [arns, message] of [
      [[], /need 1 to 5 alarm ARNs \(FIS quota\), got 0/],
      [[1, 2, 3, 4, 5, 6].map((i) => alarm("us-east-1", `a${i}`)), /got 6/],
      [[alarm("us-west-2")], /is in us-west-2, not us-east-1/],
      [["arn:aws:sns:us-east-1:000000000000:t"], /is not a CloudWatch alarm ARN/],
    ] as const) {
      expect(() => checkStopAlarms("us-east-1", arns as readonly string[])).to.throw(message);
    }
  });

  it("component args: regions plain, unique, each with 1 to 5 stop alarms", () => {
    const region = (r: string, alarms = 1) => ({
      region: r,
      tableArns: [],
      functionArns: [],
      fisConfigBucketArn: "arn:aws:s3:::b",
      stopAlarmArns: Array.from({ length: alarms }, () => "x"),
    });
    const base: ChaosExperimentsArgs = { namePrefix: "p", regions: [region("us-east-1")] };
    expect(() => validateChaosExperimentsArgs(base)).to.not.throw();
    for (const [args, message] of [
      [{ ...base, regions: [] }, /no regions to fault/],
      [
        { ...base, regions: [region("us-east-1"), region("us-east-1")] },
        /duplicate region us-east-1/,
      ],
      [{ ...base, regions: [region("mars-1")] }, /region must be an AWS region name/],
      [{ ...base, regions: [region("us-east-1", 0)] }, /needs 1 to 5 stop alarms/],
      [{ ...base, durationMinutes: 90 }, /durationMinutes must be an integer from 1 to 60/],
      [{ ...base, logRetentionDays: 0 }, /logRetentionDays must be an integer/],
    ] as const) {
      expect(() => validateChaosExperimentsArgs(args as ChaosExperimentsArgs)).to.throw(message);
    }
  });

  it("Lambda fault roles write only the region's FisConfigs/ folder and read only its functions", () => {
    const doc = fisRolePolicy("lambda-errors", {
      region: "us-east-1",
      accountId: "000000000000",
      tableArns: [],
      functionArns: [
        "arn:aws:lambda:us-east-1:000000000000:function:b",
        "arn:aws:lambda:us-east-1:000000000000:function:a",
      ],
      configBucketArn: "arn:aws:s3:::cfg",
      logGroupArn: "arn:aws:logs:us-east-1:000000000000:log-group:g",
    });
    expect(doc.Statement.slice(0, 2)).to.deep.equal([
      {
        Sid: "WriteFaultConfigurations",
        Effect: "Allow",
        Action: ["s3:DeleteObject", "s3:PutObject"],
        Resource: ["arn:aws:s3:::cfg/FisConfigs/*"],
      },
      {
        Sid: "InspectTargetFunctions",
        Effect: "Allow",
        Action: ["lambda:GetFunction"],
        Resource: [
          "arn:aws:lambda:us-east-1:000000000000:function:a",
          "arn:aws:lambda:us-east-1:000000000000:function:b",
        ],
      },
    ]);
    expect(() =>
      fisRolePolicy("lambda-latency", {
        region: "us-east-1",
        accountId: "000000000000",
        tableArns: [],
        functionArns: ["arn:aws:lambda:us-east-1:000000000000:function:a"],
        logGroupArn: "x",
      }),
    ).to.throw(/lambda-latency: no FIS configuration bucket in us-east-1/);
    expect(() =>
      fisRolePolicy("replication-pause", {
        region: "us-east-1",
        accountId: "000000000000",
        tableArns: [],
        functionArns: [],
        logGroupArn: "x",
      }),
    ).to.throw(/replication-pause: no table ARNs in us-east-1/);
  });

  it("pausing MRSC tables may also inject errors, on the region's tables only", () => {
    const input = {
      region: "us-east-1",
      accountId: "000000000000",
      tableArns: ["arn:aws:dynamodb:us-east-1:000000000000:table/t"],
      functionArns: [],
      logGroupArn: "x",
    };
    const statements = (strong: boolean) =>
      fisRolePolicy("replication-pause", { ...input, strongConsistency: strong }).Statement;
    expect(statements(true)).to.deep.include({
      Sid: "PauseMrscReplication",
      Effect: "Allow",
      Action: ["dynamodb:InjectError"],
      Resource: input.tableArns,
    });
    expect(JSON.stringify(statements(false))).to.not.include("InjectError");
  });

  it("the trust policy names this account and this region's experiments", () => {
    expect(fisTrustPolicy("123456789012", "us-west-2")).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "fis.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: {
            StringEquals: { "aws:SourceAccount": "123456789012" },
            ArnLike: { "aws:SourceArn": "arn:aws:fis:us-west-2:123456789012:experiment/*" },
          },
        },
      ],
    });
    expect(() => fisTrustPolicy("12", "us-west-2")).to.throw(/account id must be 12 digits/);
  });
});
