/**
 * Both consistency modes of both stacks and of the three-region example, under the mocks: MRSC
 * arguments exactly on the strong tables, the witness, kv eventual, the reconciler only in eventual
 * mode on its own region's products stream, and the refusals (config and mismatched stacks).
 */
import * as path from "node:path";
import { expect } from "chai";
import { RECONCILER } from "../functions/stream-functions";
import { TABLES } from "../functions/tables";
import { evaluateStack, stackRefName, type StackEvaluation } from "../tools/evaluate-stack";
import { PROJECT_DIR, readStackConfig } from "../tools/stack-config";
import { rejection } from "./support/errors";
import { json } from "./support/pulumi";
import { configOf, sharedEvaluation } from "./support/stacks";

const TABLE = "aws:dynamodb/table:Table";
const MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping";
const QUEUE = "aws:sqs/queue:Queue";
const FUNCTION = "aws:lambda/function:Function";
/** region1 in strong mode: us-east-1 and us-west-2 replicas, the witness in us-east-2. */
const STRONG1 = { consistency: "strong", witnessRegion: "us-east-2" };
const STRONG = { consistency: "strong" };
const STRONG_KEYS = TABLES.filter((t) => t.strong).map((t) => t.key);

type Streams = Record<string, Record<string, string>>;

function reconcilerOf(run: StackEvaluation) {
  return {
    mappings: run.engine.ofType(MAPPING),
    queues: run.engine.ofType(QUEUE),
    functions: run.engine.ofType(FUNCTION).filter((f) => f.name.startsWith("reconciler-")),
  };
}

/** The MRSC arguments of each table, by logical name. */
function mrscArgs(run: StackEvaluation): Record<string, { modes: unknown[]; witness: unknown }> {
  return Object.fromEntries(
    run.engine.ofType(TABLE).map((t) => [
      String(t.inputs["name"]).replace(/^resilient-dynamo-/, ""),
      {
        modes: t.inputs["replicas"].map((r: any) => r.consistencyMode),
        witness: t.inputs["globalTableWitness"],
      },
    ]),
  );
}

/** The region3 example's config, with some keys changed. */
function region3Config(patch: Record<string, string>): Record<string, string> {
  const config = readStackConfig(
    "region3",
    PROJECT_DIR,
    path.join(PROJECT_DIR, "Pulumi.region3.yaml.example"),
  );
  for (const [k, v] of Object.entries(patch)) {
    config[k.includes(":") ? k : `resilient-dynamo:${k}`] = v;
  }
  return config;
}

describe("consistency modes of the region stacks", function () {
  this.timeout(600_000);
  let eventual1: StackEvaluation;
  let eventual2: StackEvaluation;
  let strong1: StackEvaluation;
  let strong2: StackEvaluation;

  before(async () => {
    eventual1 = await sharedEvaluation("region1");
    eventual2 = await sharedEvaluation("region2", {}, { region1: {} });
    strong1 = await sharedEvaluation("region1", STRONG1);
    strong2 = await sharedEvaluation("region2", STRONG, { region1: STRONG1 });
  });

  describe("eventual (the default)", () => {
    it("no table has an MRSC argument", () => {
      for (const [table, args] of Object.entries(mrscArgs(eventual1))) {
        expect(args, table).to.deep.equal({ modes: [undefined], witness: undefined });
      }
    });

    it("each stack exports consistency eventual", () => {
      expect(eventual1.outputs["consistency"]).to.equal("eventual");
      expect(eventual2.outputs["consistency"]).to.equal("eventual");
      expect(eventual1.outputs["witnessRegion"]).to.equal(undefined);
    });

    for (const [stack, region] of [
      ["region1", "us-east-1"],
      ["region2", "us-west-2"],
    ] as const) {
      it(`${stack} runs the reconciler on its own region's products stream`, () => {
        const run = stack === "region1" ? eventual1 : eventual2;
        const { mappings, queues, functions } = reconcilerOf(run);
        expect(functions.map((f) => [f.name, f.inputs["region"]])).to.deep.equal([
          [`reconciler-${region}`, region],
        ]);
        expect(queues).to.have.length(1);
        expect(mappings).to.have.length(1);
        const streams = eventual1.outputs["streamArns"] as Streams;
        const stream = streams[region]?.[RECONCILER.stream];
        expect(stream).to.match(new RegExp(`^arn:aws:dynamodb:${region}:.*products/stream/`));
        expect(mappings[0]!.inputs).to.deep.include({
          region,
          eventSourceArn: stream,
          bisectBatchOnFunctionError: true,
          maximumRetryAttempts: 5,
          destinationConfig: { onFailure: { destinationArn: queues[0]!.state["arn"] } },
        });
        expect(run.outputs["reconcilerFunctionName"]).to.equal(
          `resilient-dynamo-reconciler-${region}`,
        );
        expect(run.outputs["reconcilerFailureQueueUrl"]).to.match(/^https:\/\/sqs\./);
      });

      it(`${stack}'s reconciler may touch exactly what RECONCILER lists, in ${region}`, () => {
        const run = stack === "region1" ? eventual1 : eventual2;
        const policy = run.engine
          .ofType("aws:iam/rolePolicy:RolePolicy")
          .find((p) => p.name === `reconciler-${region}-policy`);
        const tables = json(policy!.inputs["policy"])
          .Statement.filter((s: any) => /^Dynamo/.test(s.Sid))
          .map((s: any) => [s.Action, s.Resource]);
        const arns = (eventual1.outputs["tableArns"] as Streams)[region]!;
        expect(tables).to.deep.equal(
          Object.entries(RECONCILER.access).map(([t, actions]) => [
            [...actions!].sort(),
            [arns[t]],
          ]),
        );
      });
    }
  });

  describe("strong", () => {
    it("region1 makes exactly customers, products and orders MRSC with the us-east-2 witness", () => {
      const args = mrscArgs(strong1);
      for (const table of TABLES.map((t) => t.key)) {
        expect(args[table], table).to.deep.equal(
          STRONG_KEYS.includes(table)
            ? { modes: ["STRONG"], witness: { regionName: "us-east-2" } }
            : { modes: [undefined], witness: undefined },
        );
      }
      expect(STRONG_KEYS).to.deep.equal(["customers", "products", "orders"]);
    });

    it("kv stays eventual with its time to live", () => {
      const kv = strong1.engine
        .ofType(TABLE)
        .find((t) => t.inputs["name"] === "resilient-dynamo-kv");
      expect(kv!.inputs["ttl"]).to.deep.equal({ attributeName: "ExpiresAt", enabled: true });
    });

    it("no stack deploys the reconciler", () => {
      for (const run of [strong1, strong2]) {
        expect(reconcilerOf(run)).to.deep.equal({ mappings: [], queues: [], functions: [] });
        expect(run.outputs["reconcilerFunctionName"]).to.equal(undefined);
      }
    });

    it("replication alarms watch only the eventual table (kv); MRSC tables replicate or fail", () => {
      for (const [eventualRun, strongRun] of [
        [eventual1, strong1],
        [eventual2, strong2],
      ] as const) {
        const replicationKeys = (run: StackEvaluation) =>
          Object.keys(run.outputs["alarmArns"] as Record<string, string>).filter((k) =>
            /^(replication|stalled)-/.test(k),
          );
        const tableOf = (key: string) => key.split("-")[1];
        expect(new Set(replicationKeys(eventualRun).map(tableOf))).to.deep.equal(
          new Set(["customers", "products", "orders", "kv"]),
        );
        expect(new Set(replicationKeys(strongRun).map(tableOf))).to.deep.equal(new Set(["kv"]));
      }
      expect(STRONG_KEYS).to.not.include("kv");
    });

    it("each stack exports consistency strong; region1 its witness", () => {
      expect(strong1.outputs["consistency"]).to.equal("strong");
      expect(strong2.outputs["consistency"]).to.equal("strong");
      expect(strong1.outputs["witnessRegion"]).to.equal("us-east-2");
    });
  });

  describe("all region stacks must agree", () => {
    it("region2 strong on an eventual region1 is refused, naming both stacks", async () => {
      const err = await rejection(() =>
        evaluateStack("region2", {
          config: configOf("region2", STRONG),
          stackOutputs: { [stackRefName("region1")]: eventual1.outputs },
        }),
      );
      expect(err.message).to.include(
        "consistency differs across the stack set: stack organization/resilient-dynamo/region2 has strong, " +
          "stack organization/resilient-dynamo/region1 has eventual",
      );
    });

    it("region2 eventual on a strong region1 is refused the same way", async () => {
      const err = await rejection(() =>
        evaluateStack("region2", {
          config: configOf("region2", {}),
          stackOutputs: { [stackRefName("region1")]: strong1.outputs },
        }),
      );
      expect(err.message).to.match(
        /stack organization\/resilient-dynamo\/region2 has eventual, stack organization\/resilient-dynamo\/region1 has strong/,
      );
    });

    it("a peer deployed before the key existed counts as eventual", async () => {
      const old = { ...eventual1.outputs };
      delete old["consistency"];
      const err = await rejection(() =>
        evaluateStack("region2", {
          config: configOf("region2", STRONG),
          stackOutputs: { [stackRefName("region1")]: old },
        }),
      );
      expect(err.message).to.match(/region1 has eventual/);
    });

    it("region1 strong without a witness stops before any resource, naming the key", async () => {
      const err = await rejection(() =>
        evaluateStack("region1", { config: configOf("region1", STRONG) }),
      );
      expect(err.message).to.match(
        /resilient-dynamo:witnessRegion: is required when consistency is strong with two replica regions \(us-east-1, us-west-2\)/,
      );
    });
  });

  describe("the three-region example (Pulumi.region3.yaml.example)", () => {
    it("eventual: region3 runs its reconciler on the eu-west-1 products stream", async () => {
      const r1 = await evaluateStack("region1", {
        config: configOf("region1", { replicaRegions: '["us-west-2","eu-west-1"]' }),
      });
      const r3 = await evaluateStack("region3", {
        config: region3Config({}),
        stackOutputs: {
          [stackRefName("region1")]: r1.outputs,
          [stackRefName("region2")]: eventual2.outputs,
        },
      });
      const { mappings } = reconcilerOf(r3);
      expect(mappings.map((m) => m.inputs["eventSourceArn"])).to.deep.equal([
        (r1.outputs["streamArns"] as Streams)["eu-west-1"]!["products"],
      ]);
      expect(r3.outputs["consistency"]).to.equal("eventual");
    });

    it("strong as shipped (eu-west-1 with two US regions) is refused: not one MRSC Region set", async () => {
      const err = await rejection(() =>
        evaluateStack("region1", {
          config: configOf("region1", { ...STRONG, replicaRegions: '["us-west-2","eu-west-1"]' }),
        }),
      );
      expect(err.message).to.match(
        /resilient-dynamo:replicaRegions: the regions of an MRSC table must be in one MRSC Region set: got us-east-1, us-west-2, eu-west-1/,
      );
    });

    it("strong with region3 in us-east-2: three MRSC replicas, no witness, no reconciler", async () => {
      const r1 = await evaluateStack("region1", {
        config: configOf("region1", { ...STRONG, replicaRegions: '["us-west-2","us-east-2"]' }),
      });
      for (const [table, args] of Object.entries(mrscArgs(r1))) {
        expect(args, table).to.deep.equal(
          table === "kv"
            ? { modes: [undefined, undefined], witness: undefined }
            : { modes: ["STRONG", "STRONG"], witness: undefined },
        );
      }
      const r3 = await evaluateStack("region3", {
        config: region3Config({ "aws:region": "us-east-2", ...STRONG }),
        stackOutputs: {
          [stackRefName("region1")]: r1.outputs,
          [stackRefName("region2")]: strong2.outputs,
        },
      });
      expect(r3.outputs["region"]).to.equal("us-east-2");
      expect(r3.outputs["consistency"]).to.equal("strong");
      expect(reconcilerOf(r3)).to.deep.equal({ mappings: [], queues: [], functions: [] });
    });
  });
});
