import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { main, parsePlanArgs } from "../tools/plan";
import { planStack } from "../tools/planner";
import {
  comparePlans,
  readSavedPlan,
  toSavedPlan,
  type PlanWarning,
  type SavedPlan,
} from "../tools/plan-compare";
import { readStackConfig } from "../tools/stack-config";
import { configOf } from "./support/stacks";

/** A plan of `stack` with some config keys changed, saved as --save writes it. */
async function savedPlan(stack: string, patch: Record<string, string> = {}): Promise<SavedPlan> {
  const plan = await planStack(stack, {
    readConfig: (s) => (s === stack ? configOf(s, patch) : readStackConfig(s)),
  });
  return toSavedPlan(stack, plan.resources);
}

const kinds = (ws: readonly PlanWarning[]) => ws.map((w) => w.kind);
const TABLE_COUNT = 4;

/** Runs the CLI's main with console output captured. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error, warn } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  console.warn = () => undefined;
  try {
    const code = await main(argv);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    Object.assign(console, { log, error, warn });
  }
}

describe("npm run plan --save / --compare", function () {
  this.timeout(300_000);
  const twoReplicas = { replicaRegions: JSON.stringify(["us-west-2", "eu-west-1"]) };
  let region1: SavedPlan;
  let region1TwoReplicas: SavedPlan;
  let region2: SavedPlan;

  before(async () => {
    region1 = await savedPlan("region1");
    region1TwoReplicas = await savedPlan("region1", twoReplicas);
    region2 = await savedPlan("region2");
  });

  it("an unchanged plan warns about nothing", () => {
    expect(comparePlans(region1, region1)).to.deep.equal([]);
    expect(comparePlans(region2, region2)).to.deep.equal([]);
  });

  it("adding a replica region warns about nothing", () => {
    expect(comparePlans(region1, region1TwoReplicas)).to.deep.equal([]);
  });

  it("removing a replica region that has deletion protection: AWS refuses, once per table", () => {
    const warnings = comparePlans(region1TwoReplicas, region1);
    expect(kinds(warnings)).to.deep.equal(Array(TABLE_COUNT).fill("refused"));
    for (const w of warnings) {
      expect(w.message).to.match(/replica eu-west-1 of table resilient-dynamo-\w+ is removed/);
      expect(w.message).to.include("deletionProtection false");
    }
  });

  it("removing an unprotected replica region: its data there is deleted", async () => {
    const off = { deletionProtection: "false" };
    const before = await savedPlan("region1", { ...twoReplicas, ...off });
    const after = await savedPlan("region1", off);
    const warnings = comparePlans(before, after);
    expect(kinds(warnings)).to.deep.equal(Array(TABLE_COUNT).fill("replaces-data"));
    expect(warnings[0]!.message).to.include("is deleted, with its data in eu-west-1");
  });

  it("a replica's KMS key changed: the replica is re-created", () => {
    const after = structuredClone(region1) as SavedPlan;
    const table = after.resources.find((r) => r.name === "orders-data-orders")!;
    (table.inputs!["replicas"] as { kmsKeyArn?: string }[])[0]!.kmsKeyArn =
      "arn:aws:kms:us-west-2:000000000000:key/new";
    const warnings = comparePlans(region1, after);
    expect(kinds(warnings)).to.deep.equal(["replaces-data"]);
    expect(warnings[0]!.message).to.match(
      /replica us-west-2 of table resilient-dynamo-orders changes its KMS key .*deleted and re-created/,
    );
  });

  it("switching a deployed set to strong: every MRSC table is refused, naming the migration", async () => {
    const strong = await savedPlan("region1", {
      consistency: "strong",
      witnessRegion: "us-east-2",
    });
    const warnings = comparePlans(region1, strong);
    expect(kinds(warnings)).to.deep.equal(["refused", "refused", "refused"]);
    expect(warnings.map((w) => w.message.split(" ")[1]).sort()).to.deep.equal([
      "resilient-dynamo-customers",
      "resilient-dynamo-orders",
      "resilient-dynamo-products",
    ]);
    for (const w of warnings) {
      expect(w.message).to.match(/changes its consistency mode \(EVENTUAL -> STRONG\)/);
      expect(w.message).to.include("docs/consistency-migration.md");
    }
    // And back: strong to eventual is refused the same way.
    expect(kinds(comparePlans(strong, region1))).to.deep.equal(["refused", "refused", "refused"]);
    // A strong set compared with itself warns about nothing; a new witness is refused.
    expect(comparePlans(strong, strong)).to.deep.equal([]);
    const otherWitness = structuredClone(strong) as SavedPlan;
    const orders = otherWitness.resources.find((r) => r.name === "orders-data-orders")!;
    orders.inputs!["globalTableWitness"] = { regionName: "us-west-1" };
    const witness = comparePlans(strong, otherWitness);
    expect(kinds(witness)).to.deep.equal(["refused"]);
    expect(witness[0]!.message).to.match(/changes its MRSC witness \(us-east-2 -> us-west-1\)/);
  });

  it("a table removed from the program while protected: AWS refuses", () => {
    const after = {
      ...region1,
      resources: region1.resources.filter((r) => r.name !== "orders-data-kv"),
    };
    const warnings = comparePlans(region1, after);
    expect(kinds(warnings)).to.deep.equal(["refused"]);
    expect(warnings[0]!.message).to.include("table resilient-dynamo-kv is removed");
  });

  it("a new namePrefix replaces the ARC cluster, control panel and routing controls", async () => {
    const after = await savedPlan("region2", { namePrefix: "orders-v2" });
    const arc = comparePlans(region2, after).filter((w) => w.kind === "replaces-arc");
    expect(arc.map((w) => w.urn.split("::").at(-1)).sort()).to.deep.equal([
      "routing-arc-cluster",
      "routing-arc-panel",
      "routing-arc-us-east-1",
      "routing-arc-us-west-2",
    ]);
    expect(arc.find((w) => w.urn.endsWith("routing-arc-cluster"))!.message).to.include(
      "replaced (name changes)",
    );
    expect(arc.find((w) => w.urn.endsWith("routing-arc-panel"))!.message).to.include(
      "replaced (its clusterArn is replaced)",
    );
  });

  it("ARC resources moved to another provider are reported as replaced", () => {
    const after = structuredClone(region2) as SavedPlan;
    for (const r of after.resources as unknown as { type: string; provider: string | null }[]) {
      if (r.type.startsWith("aws:route53recoverycontrol/")) r.provider = "urn:other-provider";
    }
    const arc = comparePlans(region2, after);
    expect(kinds(arc)).to.deep.equal(Array(4).fill("replaces-arc"));
    expect(arc[0]!.message).to.include("-> urn:other-provider");
  });

  it("the stack's own aws: settings on the ARC provider replace nothing", async () => {
    const after = await savedPlan("region2", {
      "aws:profile": "ops",
      "aws:defaultTags": JSON.stringify({ tags: { team: "orders" } }),
    });
    expect(comparePlans(region2, after)).to.deep.equal([]);
  });

  it("a removed API method: the stage would keep serving it; names the Deployment to replace", () => {
    const after = {
      ...region2,
      resources: region2.resources.filter((r) => !r.urn.endsWith("::orders-us-west-2-put-kv-key")),
    };
    const warnings = comparePlans(region2, after).filter((w) => w.kind === "stale-route");
    expect(warnings).to.have.length(1);
    expect(warnings[0]!.message).to.match(
      /pulumi up --target-replace 'urn:pulumi:region2::resilient-dynamo::.*Deployment::orders-us-west-2-deployment'/,
    );
  });

  describe("command line", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "plan-compare-"));
    const file = path.join(dir, "region1.json");

    it("parses --save and --compare", () => {
      expect(parsePlanArgs(["region1", "--save", "a.json"])).to.deep.equal({
        stack: "region1",
        json: false,
        save: "a.json",
      });
      expect(parsePlanArgs(["--compare", "b.json", "region1"])).to.deep.equal({
        stack: "region1",
        json: false,
        compare: "b.json",
      });
    });

    it("--save writes the plan; --compare against it exits 0 with nothing to warn about", async () => {
      expect((await cli(["region1", "--save", file])).code).to.equal(0);
      expect(readSavedPlan(file, "region1").resources.length).to.be.greaterThan(50);
      const { code, out } = await cli(["region1", "--compare", file]);
      expect(code).to.equal(0);
      expect(out).to.match(
        /Changes since .*region1\.json that need care before pulumi up\n {2}none$/,
      );
    });

    it("--compare exits 3 and prints each warning when the saved plan had more replicas", async () => {
      const more = path.join(dir, "more.json");
      writeFileSync(more, JSON.stringify(region1TwoReplicas));
      const { code, out } = await cli(["region1", "--compare", more]);
      expect(code).to.equal(3);
      expect(out.match(/^ {2}AWS REFUSES: replica eu-west-1/gm)).to.have.length(TABLE_COUNT);
    });

    it("refuses a missing file, another stack's plan or a file that is not a plan, exit 2", async () => {
      const other = path.join(dir, "region2.json");
      writeFileSync(other, JSON.stringify(region2));
      const bad = path.join(dir, "bad.json");
      writeFileSync(bad, "{}");
      for (const [f, message] of [
        [path.join(dir, "missing.json"), /cannot read it/],
        [other, /it is a plan of stack region2, not region1/],
        [bad, /not a saved plan of version 1/],
      ] as const) {
        const { code, err } = await cli(["region1", "--compare", f]);
        expect(code, f).to.equal(2);
        expect(err).to.match(message);
      }
      expect(readFileSync(file, "utf8")).to.include('"version": 1');
    });
  });
});
