import { expect } from "chai";
import { TABLES } from "../functions/tables";
import { evaluateStack, stackRefName, type StackEvaluation } from "../tools/evaluate-stack";
import { readStackConfig } from "../tools/stack-config";
import { json } from "./support/pulumi";
import { rejection } from "./support/errors";
import { configOf, sharedEvaluation } from "./support/stacks";

const TABLE = "aws:dynamodb/table:Table";
const FUNCTION = "aws:lambda/function:Function";

function dynamoResources(run: StackEvaluation): string[] {
  return run.engine
    .ofType("aws:iam/rolePolicy:RolePolicy")
    .flatMap((p) => json(p.inputs["policy"]).Statement)
    .filter((s: any) => s.Action.some((a: string) => a.startsWith("dynamodb:")))
    .flatMap((s: any) => s.Resource);
}

describe("region stacks", function () {
  this.timeout(120_000);
  let region1: StackEvaluation;
  let region2: StackEvaluation;

  before(async () => {
    region1 = await sharedEvaluation("region1");
    region2 = await sharedEvaluation("region2", {}, { region1: {} });
  });

  describe("region1 (role primary)", () => {
    it("owns one global table per spec, replicated to us-west-2", () => {
      const tables = region1.engine.ofType(TABLE);
      expect(tables.map((t) => t.inputs["name"]).sort()).to.deep.equal(
        TABLES.map((t) => `resilient-dynamo-${t.key}`).sort(),
      );
      for (const t of tables) {
        expect(t.inputs["region"]).to.equal("us-east-1");
        expect(t.inputs["replicas"].map((r: any) => r.regionName)).to.deep.equal(["us-west-2"]);
      }
    });

    it("exports table ARNs for both regions and its API", () => {
      const arns = region1.outputs["tableArns"] as Record<string, Record<string, string>>;
      expect(Object.keys(arns)).to.deep.equal(["us-east-1", "us-west-2"]);
      expect(region1.outputs["region"]).to.equal("us-east-1");
      expect(region1.outputs["apiId"]).to.be.a("string").and.not.empty;
      expect(region1.outputs["stageArn"]).to.match(/^arn:aws:apigateway:us-east-1::\/restapis\//);
      expect(Object.keys(region1.outputs["functionArns"] as object)).to.have.length(6);
    });

    it("points its functions at the us-east-1 tables only", () => {
      const resources = dynamoResources(region1);
      expect(resources).to.not.be.empty;
      for (const r of resources) expect(r).to.match(/^arn:aws:dynamodb:us-east-1:/);
    });

    it("makes no stack reference", () => {
      expect(region1.engine.ofType("pulumi:pulumi:StackReference")).to.be.empty;
    });
  });

  describe("region2 (role secondary)", () => {
    it("reads region1 through a stack reference", () => {
      const refs = region2.engine.ofType("pulumi:pulumi:StackReference");
      expect(refs.map((r) => r.id)).to.deep.equal(["organization/resilient-dynamo/region1"]);
    });

    it("creates no table", () => {
      expect(region2.engine.ofType(TABLE)).to.be.empty;
    });

    it("points its functions at the us-west-2 replicas only", () => {
      const resources = dynamoResources(region2);
      expect(resources).to.not.be.empty;
      for (const r of resources) expect(r).to.match(/^arn:aws:dynamodb:us-west-2:/);
    });

    it("builds its API and functions in us-west-2 on region1's table names", () => {
      for (const f of region2.engine.ofType(FUNCTION)) {
        expect(f.inputs["region"]).to.equal("us-west-2");
        for (const [k, v] of Object.entries(
          f.inputs["environment"].variables as Record<string, string>,
        )) {
          if (k.startsWith("TABLE_")) expect(v).to.match(/^resilient-dynamo-/);
        }
      }
      expect(region2.outputs["region"]).to.equal("us-west-2");
      expect(region2.outputs["tableNames"]).to.deep.equal(region1.outputs["tableNames"]);
    });

    it("fails clearly when the primary has no replica in its region", async () => {
      const config = { ...readStackConfig("region2"), "aws:region": "eu-west-1" };
      const error = await rejection(() =>
        evaluateStack("region2", {
          config,
          stackOutputs: { [stackRefName("region1")]: region1.outputs },
        }),
      );
      expect(error.message).to.match(
        /has no replicas in eu-west-1.*add eu-west-1 to its resilient-dynamo:replicaRegions/,
      );
    });
  });

  describe("invalid config stops the program before any resource", () => {
    const cases: [string, Record<string, string | undefined>, RegExp][] = [
      [
        "missing role",
        { "resilient-dynamo:role": undefined },
        /resilient-dynamo:role: got nothing; expected "primary" or "secondary"/,
      ],
      [
        "unknown role",
        { "resilient-dynamo:role": "tertiary" },
        /resilient-dynamo:role: got "tertiary"/,
      ],
      [
        "no replica regions",
        { "resilient-dynamo:replicaRegions": "[]" },
        /resilient-dynamo:replicaRegions: is required/,
      ],
      [
        "bad replica region",
        { "resilient-dynamo:replicaRegions": '["us-west-9x"]' },
        /replicaRegions\.0: got "us-west-9x"; expected an AWS region name/,
      ],
      ["missing aws:region", { "aws:region": undefined }, /aws:region: is not set/],
      [
        "unknown key",
        { "resilient-dynamo:replicaRegion": '["us-west-2"]' },
        /resilient-dynamo:replicaRegion: is not a key for role primary/,
      ],
    ];
    for (const [what, patch, message] of cases) {
      it(what, async () => {
        const config = configOf("region1", patch);
        const error = await rejection(() => evaluateStack("region1", { config }));
        expect(error.message).to.match(message);
      });
    }
  });
});
