/**
 * Day-1 and day-2 ownership rules across the region stacks: who owns the account-wide API Gateway
 * logging setting and the shared certificate validation record, how region2 previews before
 * region1 exists, and which provider settings the ARC control plane runs with.
 */
import { expect } from "chai";
import { ARC_NAME_PREFIX_PATTERN, safetyRuleName } from "../components";
import { parseStackConfig } from "../stack/config";
import { evaluateStack, stackRefName, type StackEvaluation } from "../tools/evaluate-stack";
import type { RecordedResource } from "../tools/mock-engine";
import { rejection } from "./support/errors";
import { configOf, sharedEvaluation } from "./support/stacks";

const ACCOUNT = "aws:apigateway/account:Account";
const RECORD = "aws:route53/record:Record";
const CERT_VALIDATION = "aws:acm/certificateValidation:CertificateValidation";
const ROLE = "aws:iam/role:Role";
const ARC_TYPES = /^aws:route53recovery(control|readiness)\//;

/** Roles whose ARN an Account setting points at. */
function accountRoles(run: StackEvaluation): RecordedResource[] {
  const arns = run.engine.ofType(ACCOUNT).map((a) => a.inputs["cloudwatchRoleArn"]);
  return run.engine.ofType(ROLE).filter((r) => arns.includes(r.state["arn"]));
}

/** Runs `fn` with console.warn captured (Pulumi's log.warn under mocks writes there). */
async function capturingWarnings<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
  try {
    return { result: await fn(), warnings };
  } finally {
    console.warn = original;
  }
}

describe("stack ownership on day 1 and day 2", function () {
  this.timeout(300_000);
  let region1: StackEvaluation;
  let region2: StackEvaluation;

  before(async () => {
    region1 = await sharedEvaluation("region1");
    region2 = await sharedEvaluation("region2", {}, { region1: {} });
  });

  describe("API Gateway account logging (one owner per region)", () => {
    it("the stack that owns the tables sets it in its region and every replica region", () => {
      expect(
        region1.engine
          .ofType(ACCOUNT)
          .map((a) => a.region)
          .sort(),
      ).to.deep.equal(["us-east-1", "us-west-2"]);
    });

    it("the other stacks leave it alone by default", () => {
      expect(region2.engine.ofType(ACCOUNT)).to.deep.equal([]);
    });

    it("the setting and the role it names are retained when the stack is destroyed", () => {
      const kept = [...region1.engine.ofType(ACCOUNT), ...accountRoles(region1)];
      expect(kept).to.have.length(4);
      for (const r of kept) expect(r.options.retainOnDelete, r.name).to.equal(true);
    });

    it("config turns it on for a secondary (its own region) and off for the primary", async () => {
      const on = await evaluateStack("region2", {
        config: configOf("region2", { manageAccountLogging: "true" }),
        stackOutputs: { [stackRefName("region1")]: region1.outputs },
      });
      expect(on.engine.ofType(ACCOUNT).map((a) => a.region)).to.deep.equal(["us-west-2"]);
      const off = await evaluateStack("region1", {
        config: configOf("region1", { manageAccountLogging: "false" }),
      });
      expect(off.engine.ofType(ACCOUNT)).to.deep.equal([]);
    });

    it("rejects a value that is not true or false, naming the key", () => {
      expect(() =>
        parseStackConfig(configOf("region1", { manageAccountLogging: '"yes"' }), "region1"),
      ).to.throw(/resilient-dynamo:manageAccountLogging: got "yes"; expected true or false/);
    });
  });

  describe("certificate validation record (one owner)", () => {
    it("only the primary creates the CNAME every region's ACM asks for", () => {
      const records = (run: StackEvaluation) =>
        run.engine.ofType(RECORD).filter((r) => r.name.endsWith("-cert-validation"));
      expect(records(region1)).to.have.length(1);
      expect(records(region2)).to.deep.equal([]);
    });

    it("region2's certificate validates on region1's record", () => {
      const [record] = region1.engine
        .ofType(RECORD)
        .filter((r) => r.name.endsWith("-cert-validation"));
      const [validation] = region2.engine.ofType(CERT_VALIDATION);
      expect(validation!.inputs["validationRecordFqdns"]).to.deep.equal([record!.state["fqdn"]]);
      expect(validation!.region).to.equal("us-west-2");
    });
  });

  describe("region2 before region1 is deployed (a new project's first pull request)", () => {
    const noOutputs = { [stackRefName("region1")]: {} };

    it("previews with a warning: its own API on unknown table names, no global routing", async () => {
      const { result: run, warnings } = await capturingWarnings(() =>
        evaluateStack("region2", { stackOutputs: noOutputs, allowUnknownOutputs: true }),
      );
      const undeployed = warnings.filter((w) => w.includes("has no outputs yet"));
      expect(undeployed).to.have.length(1);
      expect(undeployed[0]).to.include("organization/resilient-dynamo/region1");
      expect(undeployed[0]).to.include("pulumi up -s region1");
      const functions = run.engine.ofType("aws:lambda/function:Function").map((f) => f.name);
      expect(functions.filter((f) => !f.startsWith("reconciler-"))).to.have.length(6);
      // The reconciler is declared too; its stream ARN waits for region1 like the table names.
      expect(functions.filter((f) => f.startsWith("reconciler-"))).to.deep.equal([
        "reconciler-us-west-2",
      ]);
      expect(run.engine.resources.filter((r) => ARC_TYPES.test(r.type))).to.deep.equal([]);
      expect(run.unknownOutputs).to.include.members(["tableNames", "tableArns"]);
    });

    it("pulumi up still refuses, naming the missing output", async () => {
      const err = await rejection(() =>
        evaluateStack("region2", {
          config: configOf("region2", { domainName: "orders.acme.io" }),
          stackOutputs: noOutputs,
          dryRun: false,
        }),
      );
      expect(err.message).to.match(/output '?\w+'? does not exist on stack/i);
    });

    it("a deployed region1 missing one output fails the preview too (no silent unknown)", async () => {
      const { tableNames: _dropped, ...partial } = region1.outputs;
      const err = await rejection(() =>
        evaluateStack("region2", { stackOutputs: { [stackRefName("region1")]: partial } }),
      );
      expect(err.message).to.include("has no output tableNames");
    });
  });

  describe("ARC control plane provider", () => {
    const awsSettings = {
      "aws:profile": "ops",
      "aws:assumeRoles": JSON.stringify([
        { roleArn: "arn:aws:iam::123456789012:role/deployer", sessionName: "pulumi" },
      ]),
      "aws:defaultTags": JSON.stringify({ tags: { team: "orders", cost: "1234" } }),
      "aws:allowedAccountIds": JSON.stringify(["123456789012"]),
    };
    let run: StackEvaluation;

    before(async () => {
      run = await evaluateStack("region2", {
        config: configOf("region2", awsSettings),
        stackOutputs: { [stackRefName("region1")]: region1.outputs },
      });
    });

    it("runs in us-west-2 with the stack's own profile, assumed roles, account guard and default tags", () => {
      const providers = run.engine
        .ofType("pulumi:providers:aws")
        .filter((p) => p.name === "routing-arc-us-west-2");
      expect(providers).to.have.length(1);
      const inputs = providers[0]!.inputs;
      expect(inputs["region"]).to.equal("us-west-2");
      expect(inputs["profile"]).to.equal("ops");
      expect(JSON.parse(inputs["assumeRoles"])).to.deep.equal([
        { roleArn: "arn:aws:iam::123456789012:role/deployer", sessionName: "pulumi" },
      ]);
      expect(JSON.parse(inputs["defaultTags"])).to.deep.equal({
        tags: { team: "orders", cost: "1234" },
      });
      expect(JSON.parse(inputs["allowedAccountIds"])).to.deep.equal(["123456789012"]);
    });

    it("keeps the provider's URN, so deployed clusters are not replaced", () => {
      const urns = (e: StackEvaluation) =>
        e.engine
          .ofType("pulumi:providers:aws")
          .filter((p) => p.name === "routing-arc-us-west-2")
          .map((p) => p.urn);
      expect(urns(run)).to.deep.equal(urns(region2));
      expect(urns(run)[0]).to.match(
        /::resilient-dynamo:index:ArcControlPlane\$pulumi:providers:aws::routing-arc-us-west-2$/,
      );
      const cluster = run.engine.ofType("aws:route53recoverycontrol/cluster:Cluster")[0]!;
      expect(cluster.region).to.equal("us-west-2");
    });

    it("a safety rule's name changes with the regions it covers, so its replacement cannot collide", () => {
      const two = safetyRuleName("shop", "at-least-one-on", ["us-east-1", "us-west-2"]);
      const three = safetyRuleName("shop", "at-least-one-on", [
        "us-east-1",
        "us-west-2",
        "eu-west-1",
      ]);
      expect(two).to.match(/^shop-at-least-one-on-[0-9a-f]{6}$/);
      expect(three).to.not.equal(two);
      expect(safetyRuleName("shop", "at-least-one-on", ["us-west-2", "us-east-1"])).to.equal(two);
      const longest = "p".repeat(40);
      expect(ARC_NAME_PREFIX_PATTERN.test(longest)).to.equal(true);
      expect(safetyRuleName(longest, "at-least-one-on", ["us-east-1"]).length).to.be.at.most(64);
      const rules = region2.engine.ofType("aws:route53recoverycontrol/safetyRule:SafetyRule");
      expect(rules.map((r) => r.inputs["name"])).to.deep.equal([
        safetyRuleName("resilient-dynamo", "at-least-one-on", ["us-west-2", "us-east-1"]),
      ]);
    });

    it("rejects malformed aws: settings, naming the key", () => {
      expect(() =>
        parseStackConfig(configOf("region2", { "aws:assumeRoles": "{not json" }), "region2"),
      ).to.throw(/aws:assumeRoles: "\{not json" is not valid JSON/);
      expect(() =>
        parseStackConfig(configOf("region2", { "aws:defaultTags": '{"team":"x"}' }), "region2"),
      ).to.throw(/aws:defaultTags: expected \{"tags"/);
    });
  });
});
